// The Postgres ceiling (`npm run bench`, part 2): the chunk rows of a fleet's upload written as fast as this
// server takes them — batched `INSERT … SELECT FROM unnest(…)`, 2,000 rows a statement (the pipeline's batch
// limit), one statement at a time — into a table shaped like image_chunks, in a scratch database.
import { randomUUID } from 'node:crypto';
import pg from 'pg';

const BATCH_ROWS = 2_000;

export interface PostgresCeiling {
  readonly rows: number;
  readonly wallS: number;
  readonly rowsPerS: number;
}

export async function measurePostgresCeiling(
  databaseUrl: string,
  rows: number,
  chunkBytes: number,
): Promise<PostgresCeiling> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      'CREATE TABLE bench_chunks (image_id uuid NOT NULL, chunk_id int NOT NULL, bytes bytea NOT NULL, PRIMARY KEY (image_id, chunk_id))',
    );
    const payload = Buffer.alloc(chunkBytes, 0x5a);
    const chunksPerImage = 70;
    const imageIds = Array.from({ length: Math.ceil(rows / chunksPerImage) }, () => randomUUID());
    const startedMs = performance.now();
    for (let from = 0; from < rows; from += BATCH_ROWS) {
      const n = Math.min(BATCH_ROWS, rows - from);
      const ids: string[] = [];
      const chunkIds: number[] = [];
      const bytes: Buffer[] = [];
      for (let i = from; i < from + n; i++) {
        ids.push(imageIds[Math.floor(i / chunksPerImage)] ?? '');
        chunkIds.push(i % chunksPerImage);
        bytes.push(payload);
      }
      await client.query(
        'INSERT INTO bench_chunks (image_id, chunk_id, bytes) SELECT * FROM unnest($1::uuid[], $2::int[], $3::bytea[]) ON CONFLICT DO NOTHING',
        [ids, chunkIds, bytes],
      );
    }
    const wallS = (performance.now() - startedMs) / 1000;
    return { rows, wallS, rowsPerS: rows / wallS };
  } finally {
    await client.query('DROP TABLE IF EXISTS bench_chunks').catch(() => {});
    await client.end();
  }
}
