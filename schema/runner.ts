// Applies the numbered SQL files of this folder — the very files a user pastes into the Supabase SQL editor — and
// reports the server's NOTICE/WARNING lines as the editor shows them.
import type pg from 'pg';
import { readStepSql, stages, stepsThrough, type SchemaStep, type Stage } from './steps.ts';

export interface ServerNotice {
  readonly severity: string; // NOTICE, WARNING, …
  readonly message: string;
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    message: string,
    readonly step: SchemaStep | undefined,
    readonly sqlState: string | undefined,
    readonly hint: string | undefined,
    /** 1: the migration refused or failed; 2: a precondition of the environment is missing. */
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

/** Runs one file as a single simple-protocol query (files hold BEGIN … COMMIT themselves). */
export async function applyStep(
  client: pg.ClientBase,
  step: SchemaStep,
  onNotice: (notice: ServerNotice) => void = () => {},
): Promise<void> {
  const listener = (msg: { severity?: string | undefined; message?: string | undefined }) =>
    onNotice({ severity: msg.severity ?? 'NOTICE', message: msg.message ?? '' });
  client.on('notice', listener);
  try {
    await client.query(readStepSql(step));
  } catch (error) {
    // The failed statement leaves the session inside an aborted transaction; end it so the caller can go on.
    await client.query('ROLLBACK').catch(() => {});
    const e = error as { message?: string; code?: string; hint?: string };
    throw new MigrationError(`${step.file}: ${e.message ?? String(error)}`, step, e.code, e.hint);
  } finally {
    client.removeListener('notice', listener);
  }
}

export interface StageStatus {
  readonly base: boolean;
  readonly cleanup: boolean;
  readonly resume: boolean;
  readonly pipeline: boolean;
}

/** Which steps are in place, judged from the objects each creates — so a database migrated by pasting the
 *  files into the SQL editor reads the same as one migrated by this runner. */
export async function readStageStatus(client: pg.ClientBase): Promise<StageStatus> {
  const { rows } = await client.query<StageStatus>(`
    SELECT to_regclass('device_images') IS NOT NULL AS base,
           to_regclass('device_images_duplicates_backup') IS NOT NULL AS cleanup,
           (to_regclass('device_images') IS NOT NULL
            AND to_regclass('duplicate_images_log') IS NOT NULL
            AND EXISTS (SELECT 1 FROM pg_constraint
                        WHERE conname = 'device_images_device_id_image_name_key'
                          AND conrelid = to_regclass('device_images'))
            AND to_regprocedure('fn_wake_ingestion_handler(uuid, timestamptz, text, jsonb, uuid)') IS NOT NULL
           ) AS resume,
           (to_regclass('image_chunks') IS NOT NULL AND to_regclass('rejected_messages') IS NOT NULL
            AND to_regclass('image_acks_owed') IS NOT NULL) AS pipeline`);
  const row = rows[0];
  return {
    base: row?.base ?? false,
    cleanup: row?.cleanup ?? false,
    resume: row?.resume ?? false,
    pipeline: row?.pipeline ?? false,
  };
}

export function currentStage(status: StageStatus): Stage | 'empty' {
  if (status.pipeline && status.resume) return 'pipeline';
  if (status.resume) return 'resume';
  if (status.cleanup) return 'cleanup';
  if (status.base) return 'base';
  return 'empty';
}

/**
 * `up --to <target>`: base is the schema the migration starts from (in production, the existing database), so it
 * is created only when asked for (`--to base`) and is otherwise required. The later steps are idempotent and run
 * in order every time — re-running cleanup before resume catches duplicates that crept in since.
 */
export async function migrateUp(
  client: pg.ClientBase,
  target: Stage,
  hooks: { onStep?: (step: SchemaStep) => void; onNotice?: (notice: ServerNotice) => void } = {},
): Promise<readonly SchemaStep[]> {
  const status = await readStageStatus(client);
  if (!status.base && target !== 'base') {
    throw new MigrationError(
      `the base step is missing: this database has no device_images table, so there is nothing to migrate to "${target}"`,
      undefined,
      undefined,
      'create the pre-migration schema first with `npm run migrate -- up --to base`, or point DATABASE_URL at the database to migrate',
      2,
    );
  }
  const steps = stepsThrough(target).filter((step) => step.stage !== 'base' || target === 'base');
  for (const step of steps) {
    hooks.onStep?.(step);
    await applyStep(client, step, hooks.onNotice);
  }
  return steps;
}

export { stages };
