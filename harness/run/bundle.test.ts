// Failure bundles: write → load gives the same options (same workload, fault plan and seed), minus the world's URLs.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { failed, passed } from '../checker/verdict.ts';
import { History } from '../history/history.ts';
import { buildFaultPlan } from '../nemesis/fault-plan.ts';
import { parseFaultPoint } from '../nemesis/fault-points.ts';
import { historyNdjson, loadBundle, readBundleFile, replayCommand, sha256Hex, writeBundle } from './bundle.ts';
import { liveRunDefaults, type LiveRunOptions } from './run-options.ts';
import { tempDir } from '../../test/temp-dir.ts';

const options: LiveRunOptions = {
  ...liveRunDefaults,
  devices: 12,
  imagesPerDevice: 3,
  imageKbMean: 25,
  seed: 424242,
  qos: 0,
  dialect: 'spec',
  pipeline: 'legacy-memory-chunks',
  stage: 'base',
  faults: buildFaultPlan('chaos', { server: { pipelineRestartAt: ['20%', '3-in-flight'] }, migration: { at: '50%' } }),
  brokerUrl: 'mqtt://secret-broker:1883',
  databaseUrl: 'postgres://user:pw@db/x',
  historyPath: '/tmp/some-history.ndjson',
};

describe('failure bundles', () => {
  const history = new History(() => 1000);
  history.append({ type: 'run_phase', phase: 'start' });
  history.append({ type: 'nemesis', fault: 'pipeline_restart', detail: 'at 400 ms' });
  const verdicts = [passed('I1', 'ok'), failed('I5', '2 rows receiving', [{ image_name: 'image_1.jpg' }])];

  test('round trip: write → load gives the same options, on the broker and database given to load', async () => {
    const dir = join(tempDir('camfleet-bundle-'), 'b');
    const written = await writeBundle(dir, {
      options,
      scenario: 'legacy-memory-chunks-restart',
      expected: { fail: ['I5'] },
      verdict: 'fail',
      verdicts,
      history: history.events,
    });
    expect(written.replay).toBe(replayCommand(dir));
    expect(written.replay).toMatch(/^npm run simulate -- --replay \S+b$/);

    const loaded = await loadBundle(dir);
    expect(loaded).toEqual({ ...options, brokerUrl: undefined, databaseUrl: undefined, historyPath: undefined });
    const elsewhere = await loadBundle(dir, { databaseUrl: 'postgres://other/y' });
    expect(elsewhere.databaseUrl).toBe('postgres://other/y');

    const text = readFileSync(join(dir, 'bundle.json'), 'utf8');
    expect(text).not.toContain('secret-broker');
    expect(text).not.toContain('pw@db');
    const file = await readBundleFile(dir);
    expect(file).toMatchObject({
      seed: 424242,
      scenario: 'legacy-memory-chunks-restart',
      expected: { fail: ['I5'] },
      verdict: 'fail',
      faultPlan: { plan: options.faults },
    });
    expect(file.faultPlan.summary).toContain('server.pipelineRestartAt=20%+3-in-flight');
    expect(file.verdicts[1]?.offending).toEqual([{ image_name: 'image_1.jpg' }]);

    const lines = readFileSync(join(dir, 'history.ndjson'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(history.events);
  });

  test('a missing or damaged bundle is an error naming the file and field, exit code 2', async () => {
    const dir = tempDir('camfleet-bundle-');
    await expect(loadBundle(join(dir, 'none'))).rejects.toThrow(
      /none\/bundle\.json: cannot read the bundle \(no such file\)/,
    );
    await writeBundle(dir, { options, verdict: 'fail', verdicts, history: [] });
    const path = join(dir, 'bundle.json');
    const file = JSON.parse(readFileSync(path, 'utf8')) as { options: { faults: { device: { rebootRate: unknown } } } };
    file.options.faults.device.rebootRate = 'high';
    writeFileSync(path, JSON.stringify(file));
    await expect(loadBundle(dir)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('options.faults.device.rebootRate must be a number, got "high"') as unknown,
    });
    // A bundle of an older camfleet (times in ms under the old field names) says which field it lacks.
    const older = JSON.parse(readFileSync(path, 'utf8')) as {
      options: { faults: { device: unknown; server: Record<string, unknown> } };
    };
    older.options.faults.device = { ...options.faults.device };
    delete older.options.faults.server.pipelineRestartAt;
    older.options.faults.server.pipelineRestartAtMs = [400];
    writeFileSync(path, JSON.stringify(older));
    await expect(loadBundle(dir)).rejects.toThrow(/options\.faults\.server\.pipelineRestartAt must be a list/);
    older.options.faults.server.pipelineRestartAt = ['soon'];
    writeFileSync(path, JSON.stringify(older));
    await expect(loadBundle(dir)).rejects.toThrow(/pipelineRestartAt must be a list of triggers/);
  });

  test('faults at logical points: kept in the bundle; an older bundle without them has none; a bad one is named', async () => {
    const dir = join(tempDir('camfleet-bundle-'), 'b');
    const withPoints: LiveRunOptions = {
      ...options,
      faults: buildFaultPlan('none', {
        points: [
          parseFaultPoint('reboot:device=2,image=1,after-chunks=5'),
          parseFaultPoint('counter-reset:device=1,wake=3'),
        ],
      }),
    };
    await writeBundle(dir, { options: withPoints, verdict: 'fail', verdicts, history: [] });
    expect((await loadBundle(dir)).faults).toEqual(withPoints.faults);
    expect((await readBundleFile(dir)).faultPlan.summary).toBe(
      'point=reboot:device=2,image=1,after-chunks=5 point=counter-reset:device=1,wake=3',
    );
    const path = join(dir, 'bundle.json');
    const file = JSON.parse(readFileSync(path, 'utf8')) as { options: { faults: { points?: unknown } } };
    delete file.options.faults.points;
    writeFileSync(path, JSON.stringify(file));
    expect((await loadBundle(dir)).faults.points).toEqual([]);
    file.options.faults.points = [{ kind: 'reboot', device: 2, image: 1 }];
    writeFileSync(path, JSON.stringify(file));
    await expect(loadBundle(dir)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('options.faults.points[0] must be a fault point (reboot:device=D') as unknown,
    });
  });

  test('the firmware profile: kept in the bundle; an older bundle without it ran fw350; a bad one is named', async () => {
    const dir = join(tempDir('camfleet-bundle-'), 'b');
    await writeBundle(dir, {
      options: { ...options, firmware: 'fw-resend-new-bytes' },
      verdict: 'fail',
      verdicts,
      history: [],
    });
    expect((await loadBundle(dir)).firmware).toBe('fw-resend-new-bytes');
    const path = join(dir, 'bundle.json');
    const file = JSON.parse(readFileSync(path, 'utf8')) as { options: { firmware?: unknown } };
    delete file.options.firmware;
    writeFileSync(path, JSON.stringify(file));
    expect((await loadBundle(dir)).firmware).toBe('fw350');
    // So did the opt-in "ACK names the capture" option: an older bundle ran without it.
    expect((await loadBundle(dir)).ackNamesCapture).toBe(false);
    file.options.firmware = 'fw351';
    writeFileSync(path, JSON.stringify(file));
    await expect(loadBundle(dir)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('options.firmware must be one of fw350, fw-resend-new-bytes') as unknown,
    });
  });

  test('verdicts and history quoting a URL with a password are written redacted', async () => {
    const dir = join(tempDir('camfleet-bundle-'), 'b');
    const leaky = new History(() => 1);
    leaky.append({ type: 'nemesis', fault: 'db_kill', detail: 'postgres://user:pw-s3cret@db/x refused' });
    await writeBundle(dir, {
      options: { ...options, databaseUrl: 'postgres://user:pw-s3cret@db/x' },
      verdict: 'fail',
      verdicts: [failed('I2', 'lost via mqtt://u:pw-s3cret@h', [{ url: 'postgres://h/db?password=pw-s3cret' }])],
      history: leaky.events,
    });
    for (const file of ['bundle.json', 'history.ndjson'])
      expect(readFileSync(join(dir, file), 'utf8'), file).not.toContain('pw-s3cret');
    // A bundle.json path is as good as its folder.
    expect((await readBundleFile(join(dir, 'bundle.json'))).verdict).toBe('fail');
  });

  test('a sim bundle records its mode, schedule digest and history hashes; a version-1 bundle reads as live', async () => {
    const dir = join(tempDir('camfleet-bundle-'), 'b');
    // A password that is also a word of camfleet's own text: masked in what may quote it, not in the format.
    const simOptions = { ...options, databaseUrl: 'postgres://camfleet:camfleet@db/x' };
    const leaky = new History(() => 1);
    leaky.append({ type: 'nemesis', fault: 'db_kill', detail: 'camfleet refused' });
    await writeBundle(dir, {
      options: simOptions,
      verdict: 'fail',
      verdicts,
      history: leaky.events,
      sim: { scheduleDigest: 'ab'.repeat(32) },
    });
    const file = await readBundleFile(dir);
    expect(file).toMatchObject({ format: 'camfleet-bundle/2', mode: 'sim' });
    const written = readFileSync(join(dir, 'history.ndjson'), 'utf8');
    expect(written).toContain('*** refused');
    expect(file.sim).toEqual({
      scheduleDigest: 'ab'.repeat(32),
      historySha256: sha256Hex(historyNdjson(leaky.events)),
      historyFileSha256: sha256Hex(written),
    });

    const live = join(tempDir('camfleet-bundle-'), 'live');
    await writeBundle(live, { options, verdict: 'fail', verdicts, history: [] });
    expect(await readBundleFile(live)).toMatchObject({ mode: 'live' });
    expect((await readBundleFile(live)).sim).toBeUndefined();

    const path = join(live, 'bundle.json');
    const v1 = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    delete v1.mode;
    writeFileSync(path, JSON.stringify({ ...v1, format: 'camfleet-bundle/1' }));
    expect(await readBundleFile(live)).toMatchObject({ format: 'camfleet-bundle/2', mode: 'live' });
    expect(await loadBundle(live)).toMatchObject({ seed: 424242, pipeline: 'legacy-memory-chunks' });
    // Written before the rogue device existed: that fault is off in it.
    const older = structuredClone(v1) as { options: { faults: { network: Record<string, unknown> } } };
    delete older.options.faults.network.rogueDeviceAt;
    writeFileSync(path, JSON.stringify({ ...older, format: 'camfleet-bundle/1' }));
    expect((await loadBundle(live)).faults.network.rogueDeviceAt).toEqual([]);

    writeFileSync(path, JSON.stringify({ ...v1, mode: 'sim' }));
    await expect(readBundleFile(live)).rejects.toThrow(
      /sim must be an object \(the bundle of a sim run\), got nothing/,
    );
    writeFileSync(path, JSON.stringify({ ...v1, mode: 'replay' }));
    await expect(readBundleFile(live)).rejects.toThrow(/mode must be one of live, sim, got "replay"/);
  });
});
