// MAC → device_id, with auto-provisioning of unknown devices (PROTOCOL.md §6). Known ids are cached; the rest are
// looked up — and created if absent — in batches (a fleet saying HELLO at once costs a few transactions).
import type { Clock } from '../world/clock.ts';
import { realClock } from '../world/live/real-clock.ts';
import type { Database } from '../world/sql.ts';
import { GroupCall } from './group-call.ts';
import { provisionDevices } from './store/devices.ts';
import { errorText, withRetry } from './store/pool.ts';

export class DeviceDirectory {
  private readonly ids = new Map<string, string>();
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly batches: GroupCall<string, string>;

  constructor(
    db: Database,
    onProvisioned: (count: number) => void,
    log: (line: string) => void,
    /** The retries' pauses run on it. */
    clock: Clock = realClock,
  ) {
    this.batches = new GroupCall<string, string>(
      async (macs) => {
        // A unique violation on device_code (a writer numbering devices without the lock) or a deadlock is worth
        // another try: the next attempt sees the committed rows.
        const { ids, created } = await withRetry(
          3,
          () => provisionDevices(db, [...new Set(macs)]),
          (error) => log(`pipeline: provisioning ${macs.length} devices failed, retrying: ${errorText(error)}`),
          clock,
        );
        if (created > 0) onProvisioned(created);
        return macs.map((mac) => {
          const id = ids.get(mac);
          if (id === undefined) throw new Error(`device ${mac} was not provisioned`);
          return id;
        });
      },
      { maxBatch: 500, concurrency: 1 },
    );
  }

  get busy(): boolean {
    return this.batches.busy;
  }

  /** The device id of a (normalised) MAC, creating the device if it does not exist. */
  ensure(mac: string): Promise<string> {
    const known = this.ids.get(mac);
    if (known !== undefined) return Promise.resolve(known);
    const running = this.inflight.get(mac);
    if (running !== undefined) return running;
    const p = this.batches.call(mac).then(
      (id) => {
        this.ids.set(mac, id);
        this.inflight.delete(mac);
        return id;
      },
      (error: unknown) => {
        this.inflight.delete(mac);
        throw error;
      },
    );
    this.inflight.set(mac, p);
    return p;
  }
}
