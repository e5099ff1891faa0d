// Scenario specs: every catalogue file loads, the catalogue covers what ARCHITECTURE.md §5 asks, and each kind of
// bad field gives an error that names the file and the field.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { legacyProfiles } from './sensitivity.ts';
import { describeExpectation } from '../harness/checker/expectation.ts';
import { loadCatalogue, loadScenario, scenarioNotInMode, validateScenario } from './spec.ts';
import { tempDir } from '../test/temp-dir.ts';
import { firmwareProfiles } from '../simulator/firmware/index.ts';

const good = {
  name: 'x',
  purpose: 'a test scenario',
  fleet: { devices: 3, images: 2 },
  pipeline: 'fixed',
  stage: 'resume',
  faults: { mix: 'none' },
  timeBudgetS: 10,
  expect: 'pass',
};

/** `good` with one field replaced at a dotted path (undefined deletes it). */
function withField(path: string, value: unknown): unknown {
  const copy = structuredClone(good) as Record<string, unknown>;
  const keys = path.split('.');
  let at = copy;
  for (const key of keys.slice(0, -1)) {
    at[key] ??= {};
    at = at[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy;
}

const source = 'scenarios/catalogue/x.json';
const errorOf = (data: unknown) => {
  try {
    validateScenario(data, source);
  } catch (error) {
    return (error as Error).message;
  }
  return 'no error';
};

describe('the catalogue', () => {
  const catalogue = loadCatalogue();

  test('every file loads, names are unique and match their files', () => {
    expect(catalogue.length).toBeGreaterThanOrEqual(18);
    expect(new Set(catalogue.map((s) => s.name)).size).toBe(catalogue.length);
  });

  test('entries are small and fast: at most 30 devices, a budget of at most 60 s', () => {
    for (const s of catalogue) {
      expect(s.fleet.devices, s.name).toBeLessThanOrEqual(30);
      expect(s.timeBudgetS, s.name).toBeLessThanOrEqual(60);
    }
  });

  test('each legacy profile is named by a scenario that expects it to fail an invariant', () => {
    for (const profile of legacyProfiles)
      expect(
        catalogue.some((s) => s.pipeline === profile && s.expect !== 'pass'),
        `${profile} has no catching scenario`,
      ).toBe(true);
  });

  test('the fixed profile is expected to pass every scenario that runs it with the faithful firmware, but a hazard of the v3.5.0 protocol, whose cure (`<name>-cured`, ACK names the capture) it passes', () => {
    for (const s of catalogue.filter((x) => x.pipeline === 'fixed' && (x.firmware ?? 'fw350') === 'fw350')) {
      if (s.expect === 'pass') continue;
      expect(s.ackNamesCapture, `${s.name}: a protocol hazard runs without the cure`).toBeUndefined();
      const cured = catalogue.find((x) => x.name === `${s.name}-cured`);
      expect(cured, `${s.name} expects fixed to fail but has no ${s.name}-cured`).toBeDefined();
      expect(cured?.ackNamesCapture).toBe(true);
      expect(cured?.expect).toBe('pass');
      expect({ ...cured, name: s.name, purpose: '', ackNamesCapture: undefined, expect: s.expect }).toEqual({
        ...s,
        purpose: '',
        ackNamesCapture: undefined,
      });
    }
  });

  test('each firmware bug profile is named by a scenario on the fixed pipeline that expects it to fail', () => {
    for (const profile of firmwareProfiles.filter((p) => p !== 'fw350'))
      expect(
        catalogue.some((s) => s.firmware === profile && s.pipeline === 'fixed' && s.expect !== 'pass'),
        `${profile} has no catching scenario`,
      ).toBe(true);
  });

  test('the seed guide causes and the spec cases each have their scenario', () => {
    const names = catalogue.map((s) => s.name);
    for (const name of [
      'server-restart-mid-transfer',
      'firmware-double-send',
      'mqtt-race-two-writers',
      'manual-fix-reinserts',
      'counter-reset-name-reuse',
      'five-days-offline-drain',
      'missing-chunks-resent',
      'lossy-network',
      'broker-restart',
      'database-outage',
      'migration-mid-run',
      'dialect-mix',
      'chaos',
    ])
      expect(names).toContain(name);
  });
});

describe('validateScenario', () => {
  test('a minimal spec is accepted as given', () => {
    expect(validateScenario(good, source)).toEqual({ ...good, exercises: [] });
  });

  test('firmware: optional (absent is fw350), one of the firmware profiles', () => {
    expect(validateScenario(good, source).firmware).toBeUndefined();
    expect(validateScenario(withField('firmware', 'fw-one-based-ids'), source)).toEqual({
      ...good,
      firmware: 'fw-one-based-ids',
      exercises: [],
    });
    expect(errorOf(withField('firmware', 'fw351'))).toBe(
      `${source}: firmware must be one of "fw350", "fw-resend-new-bytes", "fw-dequeue-on-any-ack", "fw-one-based-ids", got "fw351"`,
    );
  });

  test('ackNamesCapture: optional (absent is off, as v3.5.0), a boolean', () => {
    expect(validateScenario(good, source).ackNamesCapture).toBeUndefined();
    expect(validateScenario(withField('ackNamesCapture', true), source).ackNamesCapture).toBe(true);
    expect(errorOf(withField('ackNamesCapture', 'yes'))).toContain('ackNamesCapture');
  });

  test('fault overrides, migration, seed, operator and a fail expectation are accepted', () => {
    const s = validateScenario(
      {
        ...good,
        stage: 'base',
        pipeline: 'legacy-insert',
        seed: 42,
        faults: {
          mix: 'default',
          device: { rebootRate: 0.5, wifiOutageWakes: 5 },
          network: { brokerRestartAt: ['10%'], slowSubscriber: true },
          server: { twoInstances: true, slowDatabaseMs: 5, pipelineRestartAt: ['2-in-flight', '1500ms'] },
          migration: { at: '30%' },
        },
        operator: { reinsertCompleteRowsAt: ['20%'] },
        exercises: ['pipeline_restart_mid_transfer', 'resume_after_restart'],
        expect: { fail: ['I1'], mayFail: ['I6'] },
      },
      source,
    );
    expect(s.faults.device).toEqual({ rebootRate: 0.5, wifiOutageWakes: 5 });
    expect(s.faults.migration).toEqual({ at: '30%' });
    expect(s.faults.server?.pipelineRestartAt).toEqual(['2-in-flight', '1500ms']);
    expect(s.operator).toEqual({ reinsertCompleteRowsAt: ['20%'] });
    expect(s.exercises).toEqual(['pipeline_restart_mid_transfer', 'resume_after_restart']);
    expect(describeExpectation(s.expect)).toBe('fail I1 (I6 may fail)');
  });

  test('modes: a live-only scenario says why; both modes (or none named) run everywhere', () => {
    const why = "a real broker's queue overflowing under a slow subscriber (Mosquitto's max_queued_messages)";
    const live = validateScenario({ ...good, modes: ['live'], liveOnlyBecause: why }, source);
    expect(live).toMatchObject({ modes: ['live'], liveOnlyBecause: why });
    expect(scenarioNotInMode(live, 'sim')).toBe(why);
    expect(scenarioNotInMode(live, 'live')).toBeUndefined();
    const both = validateScenario({ ...good, modes: ['sim', 'live'] }, source);
    expect(scenarioNotInMode(both, 'sim')).toBeUndefined();
    expect(scenarioNotInMode(validateScenario(good, source), 'sim')).toBeUndefined();
    const simOnly = validateScenario({ ...good, modes: ['sim'], simOnlyBecause: 'an exact interleaving' }, source);
    expect(scenarioNotInMode(simOnly, 'live')).toBe('an exact interleaving');
  });

  test('the catalogue marks no scenario live-only for a feature sim merely lacks today', () => {
    // Only what lies outside sim by nature may be live-only: a real broker's queue overflowing under a slow
    // subscriber, or a webhook handler (an HTTP server the forwarder posts to).
    for (const s of loadCatalogue().filter((c) => c.modes !== undefined && !c.modes.includes('sim')))
      expect(
        s.faults.network?.slowSubscriber === true || s.webhook !== undefined,
        `${s.name}: ${s.liveOnlyBecause ?? ''}`,
      ).toBe(true);
  });

  test('a webhook: its command, timeout and retries are read; it is live only; its faults need it', () => {
    const live = { modes: ['live'], liveOnlyBecause: 'an HTTP handler' };
    const s = validateScenario(
      {
        ...good,
        ...live,
        webhook: { cmd: 'node handler.mjs --mode correct', timeoutMs: 300, retries: 2 },
        faults: { mix: 'none', webhook: { slowRate: 0.5, slowMs: 600, error5xxRate: 0.1, duplicateRate: 0.1 } },
      },
      source,
    );
    expect(s.webhook).toEqual({ cmd: 'node handler.mjs --mode correct', timeoutMs: 300, retries: 2 });
    expect(s.faults.webhook).toEqual({ slowRate: 0.5, slowMs: 600, error5xxRate: 0.1, duplicateRate: 0.1 });
    expect(errorOf({ ...good, webhook: { cmd: 'node handler.mjs' } })).toMatch(/modes must be \["live"\] when webhook/);
    expect(errorOf({ ...good, ...live, webhook: { cmd: ' ' } })).toMatch(/webhook.cmd must be a non-empty string/);
    expect(errorOf({ ...good, ...live, webhook: { cmd: 'a\nb' } })).toMatch(/webhook.cmd must be a one-line/);
    expect(errorOf({ ...good, ...live, webhook: { cmd: 'x', retries: 50 } })).toMatch(/webhook.retries/);
    expect(errorOf({ ...good, ...live, webhook: { cmd: 'x', url: 'http://a' } })).toMatch(/webhook/);
    expect(errorOf({ ...good, faults: { mix: 'none', webhook: { slowRate: 0.5 } } })).toMatch(
      /faults.webhook must be given only with webhook/,
    );
    expect(errorOf({ ...good, faults: { mix: 'none', webhook: { slowRate: 2 } } })).toMatch(/faults.webhook.slowRate/);
  });

  test('faults at logical points are read in the --fault-at spelling; a migrate point needs the base stage', () => {
    const s = validateScenario(
      withField('faults.points', ['reboot:device=2,image=1,after-chunks=5', 'counter-reset:device=3,wake=2']),
      source,
    );
    expect(s.faults.points).toEqual([
      { kind: 'reboot', device: 2, image: 1, afterChunks: 5 },
      { kind: 'counter-reset', device: 3, wake: 2 },
    ]);
    const migrating = validateScenario(
      { ...good, stage: 'base', faults: { mix: 'none', points: ['migrate:in-flight=2'] } },
      source,
    );
    expect(migrating.faults.points).toEqual([{ kind: 'migrate', inFlight: 2 }]);
  });

  test.each([
    [
      'a rate that is not a number',
      withField('faults.device.rebootRate', 'high'),
      `${source}: faults.device.rebootRate must be a number between 0 and 1, got "high"`,
    ],
    [
      'a rate above 1',
      withField('faults.network.dropRate', 1.5),
      'faults.network.dropRate must be a number between 0 and 1, got 1.5',
    ],
    [
      'an unknown fault field',
      withField('faults.device.rebooot', 0.1),
      'faults.device.rebooot is not a field here (fields: rebootRate,',
    ],
    ['an unknown top-level field', withField('fleets', {}), `${source}: fleets is not a field here`],
    ['a missing field', withField('expect', undefined), `${source}: expect is missing`],
    ['a missing fleet field', withField('fleet.devices', undefined), 'fleet.devices is missing'],
    [
      'a fractional device count',
      withField('fleet.devices', 2.5),
      'fleet.devices must be a whole number between 1 and 20000, got 2.5',
    ],
    ['an unknown pipeline', withField('pipeline', 'legacy'), 'pipeline must be one of "fixed", "legacy-insert"'],
    [
      'an unknown stage',
      withField('stage', 'pipeline'),
      'stage must be one of "base", "cleanup", "resume", got "pipeline"',
    ],
    [
      'an unknown mix',
      withField('faults.mix', 'wild'),
      'faults.mix must be one of "none", "default", "chaos", got "wild"',
    ],
    ['a bad dialect', withField('fleet.dialect', 'v2'), 'fleet.dialect must be one of "fw350", "spec", got "v2"'],
    ['a bad qos', withField('fleet.qos', 2), 'fleet.qos must be one of 0, 1, got 2'],
    [
      'a schedule that is not a list',
      withField('faults.server.pipelineRestartAt', '40%'),
      'faults.server.pipelineRestartAt must be a list of fault triggers (e.g. ["40%"]), got "40%"',
    ],
    [
      'a trigger it cannot read',
      withField('faults.server.killConnectionsAt', ['40%', 'soon']),
      'faults.server.killConnectionsAt[1] must be a fault trigger: "40%" (of the expected chunks stored), "3-in-flight" (transfers), "5-receiving" (rows with stored progress) or "1500ms", got "soon"',
    ],
    [
      'the old ms field name',
      withField('faults.server.pipelineRestartAtMs', [500]),
      'faults.server.pipelineRestartAtMs is not a field here (fields: pipelineRestartAt,',
    ],
    [
      'an unknown exercise',
      withField('exercises', ['pipeline_restart']),
      'exercises[0] must be one of "pipeline_restart_mid_transfer"',
    ],
    [
      'a switch that is not boolean',
      withField('faults.server.twoInstances', 'yes'),
      'faults.server.twoInstances must be true or false, got "yes"',
    ],
    [
      'a migration off the base stage',
      withField('faults.migration', { at: '10%' }),
      'stage must be "base" when faults.migration is set, got "resume"',
    ],
    [
      'an expectation that is neither',
      withField('expect', 'fail'),
      'expect must be "pass" or { "fail": ["I1", …] }, got "fail"',
    ],
    ['an empty fail list', withField('expect', { fail: [] }), 'expect.fail must be a non-empty list of invariant ids'],
    ['an unknown invariant', withField('expect', { fail: ['I10'] }), 'expect.fail[0] must be one of "I1"'],
    [
      'an id both in fail and mayFail',
      withField('expect', { fail: ['I1'], mayFail: ['I1'] }),
      'expect.mayFail must be free of ids already in expect.fail (I1)',
    ],
    [
      'more images than wakes',
      withField('fleet.images', 9),
      'fleet.images must be at most fleet.wakesMax (8; one image per wake), got 9',
    ],
    [
      'points that are not a list',
      withField('faults.points', 'reboot:device=1,image=1,after-chunks=1'),
      'faults.points must be a list of fault points (reboot:device=D,image=N,after-chunks=K',
    ],
    [
      'a point that is not text',
      withField('faults.points', [{ kind: 'reboot' }]),
      'faults.points[0] must be a fault point (reboot:device=D',
    ],
    [
      'a point it cannot read',
      withField('faults.points', ['counter-reset:device=1,wake=2', 'reboot:device=1,image=1']),
      `${source}: faults.points[1] "reboot:device=1,image=1": reboot: after-chunks= is missing`,
    ],
    [
      'a point on a device the fleet does not have',
      withField('faults.points', ['reboot:device=9,image=1,after-chunks=5']),
      'faults.points[0] reboot:device=9,image=1,after-chunks=5 can never strike: device 9 of a 3-device fleet',
    ],
    [
      'a point on an image no device captures',
      withField('faults.points', ['reboot:device=1,image=3,after-chunks=5']),
      'faults.points[0] reboot:device=1,image=3,after-chunks=5 can never strike: image 3, but each device captures 2',
    ],
    [
      'a point given twice',
      withField('faults.points', ['counter-reset:device=1,wake=2', 'counter-reset:device=1,wake=2']),
      'faults.points: fault point counter-reset:device=1,wake=2 is given twice',
    ],
    [
      'a migrate point off the base stage',
      withField('faults.points', ['migrate:in-flight=2']),
      'stage must be "base" when faults.points has a migrate point, got "resume"',
    ],
    ['a name that is not kebab-case', withField('name', 'My Scenario'), 'name must be a kebab-case name'],
    ['a multi-line purpose', withField('purpose', 'a\nb'), 'purpose must be one line'],
    ['a spec that is not an object', [], `${source}: the spec must be an object, got []`],
    ['an unknown mode', withField('modes', ['replay']), 'modes[0] must be one of "live", "sim", got "replay"'],
    ['no mode at all', withField('modes', []), 'modes must be a non-empty list of "live", "sim", got []'],
    ['a mode twice', withField('modes', ['live', 'live']), 'modes must be a list without repeats'],
    [
      'a live-only scenario without its reason',
      withField('modes', ['live']),
      'liveOnlyBecause must be the reason the scenario runs in live only (with "modes": ["live"]), got nothing',
    ],
    [
      'a reason without the mode it explains',
      withField('liveOnlyBecause', 'slow subscriber'),
      'liveOnlyBecause must be given only with "modes": ["live"] (modes: nothing), got "slow subscriber"',
    ],
    [
      'the other mode’s reason',
      { ...good, modes: ['live'], liveOnlyBecause: 'x y', simOnlyBecause: 'z' },
      'simOnlyBecause must be given only with "modes": ["sim"] (modes: ["live"]), got "z"',
    ],
    [
      'an empty reason',
      { ...good, modes: ['live'], liveOnlyBecause: ' ' },
      'liveOnlyBecause must be a non-empty string',
    ],
  ])('%s is refused with the field named', (_what, data, message) => {
    expect(errorOf(data)).toContain(message);
  });
});

describe('loadScenario', () => {
  const dir = tempDir('camfleet-spec-');

  test('invalid JSON names the file', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{ "name": ');
    expect(() => loadScenario(path)).toThrow(/broken\.json: not valid JSON/);
  });

  test('the name must match the file name', () => {
    const path = join(dir, 'other.json');
    writeFileSync(path, JSON.stringify(good));
    expect(() => loadScenario(path)).toThrow(/other\.json: name must match the file name "other", got "x"/);
  });

  test('a validation error carries exit code 2', () => {
    const path = join(dir, 'x.json');
    writeFileSync(path, JSON.stringify(withField('timeBudgetS', 0)));
    try {
      loadScenario(path);
      expect.unreachable();
    } catch (error) {
      expect((error as { exitCode: number }).exitCode).toBe(2);
      expect((error as Error).message).toMatch(/x\.json: timeBudgetS must be a number between 1 and 3600, got 0$/);
    }
  });
});
