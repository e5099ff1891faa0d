// The NDJSON sink: a path that cannot be written fails at once (before a run starts anything), and no line written
// holds a password even when an event quotes a URL with one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { tempDir } from '../../test/temp-dir.ts';
import { History } from './history.ts';

describe('History.writeTo', () => {
  test('a path in a missing directory throws synchronously, naming the path', () => {
    const history = new History(() => 0);
    expect(() => history.writeTo('/nonexistent/dir/h.ndjson')).toThrow(/ENOENT.*\/nonexistent\/dir\/h\.ndjson/);
  });

  test('events quoting a URL with a password are written redacted; in memory they stay as they were', async () => {
    const path = join(tempDir('camfleet-history-'), 'h.ndjson');
    const history = new History(() => 5);
    history.writeTo(path);
    const detail = 'reconnect to mqtt://user:s3cret@broker:1883 and postgres://p:s3cret@db/x?password=s3cret';
    history.append({ type: 'nemesis', fault: 'broker_restart', detail });
    await history.close();
    const written = readFileSync(path, 'utf8');
    expect(written).not.toContain('s3cret');
    expect(JSON.parse(written)).toMatchObject({
      detail: 'reconnect to mqtt://user:***@broker:1883 and postgres://p:***@db/x?password=***',
    });
    expect(history.events[0]).toMatchObject({ detail });
  });
});
