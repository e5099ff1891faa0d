// The migrate CLI as a user runs it: a real process against a real database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { primaryTarget, scratchDatabase } from '../../test/databases.ts';
import { runCli, startCli } from '../../test/run-cli.ts';

const migrate = (args: string[], env: Record<string, string | undefined>) => runCli('migrate.ts', args, env);

describe('npm run migrate', () => {
  let url: string;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const db = await scratchDatabase(primaryTarget().server!, 'migrate_cli');
    url = db.url;
    drop = () => db.drop();
  });
  afterAll(async () => drop?.());
  const run = (...args: string[]) => migrate(args, { DATABASE_URL: url });

  test('--help names every command; an unknown --to is a usage error', async () => {
    const help = await migrate(['--help'], {});
    expect(help.code).toBe(0);
    for (const command of ['status', 'up', 'preview', 'verify', 'backups', 'restore', 'seed-duplicates', 'serve'])
      expect(help.stdout).toContain(command);
    expect(help.stdout).toContain('.camfleet/pgdata');
    expect(help.stdout).toContain('1 a check failed (verify) or a restore was blocked by the UNIQUE constraint');
    const bad = await run('up', '--to', 'sideways');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Invalid values:[\s\S]*sideways[\s\S]*base/);
  });

  test('the whole guide: base → seed duplicates → status → preview → verify FAIL → up → verify PASS → restore', async () => {
    const empty = await run('up', '--to', 'resume');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('the base step is missing');

    expect((await run('up', '--to', 'base')).code).toBe(0);
    const noBackups = await run('backups');
    expect(noBackups.code).toBe(0);
    expect(noBackups.stdout).toContain('no backups: the cleanup step has not run');
    const seeded = await run('seed-duplicates', '--devices', '5', '--seed', '7');
    expect(seeded.stdout).toContain('13 duplicate groups (78 rows; 65 to remove)');

    const status = await run('status');
    expect(status.stdout).toContain('stage: base');
    expect(status.stdout).toContain('duplicate groups: 13 (78 rows; 65 would be removed by cleanup)');
    expect(status.stdout).toContain('constraint: absent');

    const preview = await run('preview');
    expect(preview.stdout.match(/✓ KEEP/g)).toHaveLength(13);
    expect(preview.stdout.match(/✗ DELETE/g)).toHaveLength(65);

    const early = await run('verify');
    expect(early.code).toBe(1);
    expect(early.stdout).toMatch(/FAIL {2}1\. no duplicates remain: 13 duplicate groups/);

    const up = await run('up');
    expect(up.code).toBe(0);
    for (const line of [
      'NOTICE:  Found 13 duplicate image_name pairs',
      'NOTICE:  Deleted 65 duplicate image records',
      'NOTICE:  Duplicates backed up to device_images_duplicates_backup table',
      'NOTICE:  ✓ All duplicates cleaned up successfully',
      'NOTICE:  ✓ Ready to apply IMAGE_RESUME_MIGRATION.sql',
      'NOTICE:  Added UNIQUE constraint on device_images(device_id, image_name)',
      'NOTICE:  === Image Resume Migration Complete ===',
      'NOTICE:  Duplicate logs recorded: 0',
      'NOTICE:  Resume system is now active!',
    ])
      expect(up.stdout).toContain(line);

    const verify = await run('verify');
    expect(verify.code).toBe(0);
    expect(verify.stdout.match(/^PASS/gm)).toHaveLength(4);
    expect(verify.stdout).toContain('65 row(s) backed up');

    // Already past cleanup: nothing runs (no NOTICE from 002_cleanup.sql), the stage stays.
    const back = await run('up', '--to', 'cleanup');
    expect(back.code).toBe(0);
    expect(back.stdout.trim()).toBe('database is already at stage resume (past cleanup): nothing to do');
    expect((await run('status')).stdout).toContain('stage: resume');

    // `backups` lists what the README's restore step needs: a backup_id per backed-up row.
    const backups = await run('backups');
    expect(backups.code).toBe(0);
    expect(backups.stdout.split('\n')[0]).toMatch(
      /^backup_id\s+\| device_code\s+\| image_name\s+\| status\s+\| chunks\s+\| backed_up_at$/,
    );
    const ids = backups.stdout.match(/^[0-9a-f]{8}-[0-9a-f-]{27}/gm) ?? [];
    expect(ids).toHaveLength(65);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const stored = (await client.query(`SELECT backup_id FROM device_images_duplicates_backup`)).rows.map(
      (r: { backup_id: string }) => r.backup_id,
    );
    await client.end();
    expect([...ids].sort()).toEqual([...stored].sort());
    const backupId = ids[0] ?? '';
    const blocked = await run('restore', backupId);
    expect(blocked.code).toBe(1);
    expect(blocked.stdout).toContain('not restored');
    const missing = await run('restore', '00000000-0000-4000-8000-000000000000');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no backup row');
  });

  test('an unreachable DATABASE_URL is one clear line naming host and port, exit 2, within 10 s', async () => {
    const r = await migrate(['status'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot connect to Postgres at 127\.0\.0\.1:1 \(DATABASE_URL\): .*ECONNREFUSED/);
    expect(r.ms).toBeLessThan(10_000);
  });

  test('without DATABASE_URL the embedded database keeps its data in --data-dir between commands', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'camfleet-cli-'));
    try {
      expect((await migrate(['up', '--to', 'base', '--data-dir', dir], {})).code).toBe(0);
      const status = await migrate(['status', '--data-dir', dir], {});
      expect(status.stderr).toContain(`embedded Postgres (data in ${dir})`);
      expect(status.stdout).toContain('stage: base');
      expect(status.stdout).toContain('psql: `npm run migrate -- serve`');
      // A database already at base: going up to base again still runs (every step is idempotent).
      expect((await migrate(['up', '--to', 'base', '--data-dir', dir], {})).stdout).toContain(
        '-- applying 001_base.sql',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('serve keeps the embedded database up and prints the psql command that reaches it, until Ctrl-C', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'camfleet-cli-'));
    const service = startCli('migrate.ts', ['serve', '--data-dir', dir]);
    let out = '';
    service.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await service.waitForOutput(/until Ctrl-C/, 30_000);
      const m = /psql -h (\S+) -p (\d+) -U (\S+) (\S+) +\(password: (\S+)\)/.exec(out);
      expect(m, out).not.toBeNull();
      const [, host, port, user, database, password] = m ?? [];
      const client = new pg.Client({ host, port: Number(port), user, database, password });
      await client.connect();
      const row = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0];
      await client.end();
      expect(row?.db).toBe('camfleet');
    } finally {
      service.child.kill('SIGINT');
    }
    const run = await service.done;
    rmSync(dir, { recursive: true, force: true });
    expect(run.code, run.stderr).toBe(0);
  });
});
