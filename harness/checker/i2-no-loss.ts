// I2 no loss (ARCHITECTURE.md §3): every image a device removed from its queue after ACK_OK (device_dequeued) is
// stored complete, and the stored bytes hash to the device's original.
import { existingTables, requireTables, type Db } from './db.ts';
import { captureOf, distinctImages, type RunFacts } from './run-facts.ts';
import { checkStoredComplete } from './stored-images.ts';
import { evaluate, judge, type InvariantVerdict } from './verdict.ts';

export function checkNoLoss(db: Db, facts: RunFacts): Promise<InvariantVerdict> {
  return evaluate('I2', async () => {
    await requireTables(db, ['device_images', 'devices']);
    const withBlobs = (await existingTables(db, ['image_blobs'])).has('image_blobs');
    const dequeued = distinctImages(facts.dequeued).map((d) => ({
      ...d,
      captureTimestamp: captureOf(facts, d.mac, d.sha256)?.captureTimestamp,
    }));
    const { missing } = await checkStoredComplete(db, dequeued, withBlobs);
    return judge(
      'I2',
      missing,
      {
        pass: `${dequeued.length} dequeued images all stored complete${withBlobs ? ' with the device’s bytes' : ''}`,
        fail: `${missing.length} of ${dequeued.length} dequeued images not stored complete with the device’s bytes`,
      },
      withBlobs || dequeued.length === 0 ? undefined : 'bytes not checkable: table image_blobs does not exist',
    );
  });
}
