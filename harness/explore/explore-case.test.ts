// The case → scenario translation and the arbitraries (pure): every generated case is a valid scenario spec that
// reads back to itself, points stay within the fleet, faults are counted as the shrink reports them.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { propertyParams } from '../../test/property-runs.ts';
import { validateScenario } from '../../scenarios/spec.ts';
import { scenarioJson } from '../../scenarios/spec-json.ts';
import { clampPoint, exploreCaseArb, exploreFleetBounds } from './arbitraries.ts';
import { caseScenario, caseSize, faultCount, type ExploreCase } from './explore-case.ts';
import { exploreStageDefault } from './explore-stage.ts';

const target = { pipeline: 'fixed', stage: 'resume' } as const;

describe('explore cases', () => {
  test('every generated case, of every mix and stage, is a spec that validates and reads back to itself', () => {
    const settings = fc.record({
      faults: fc.constantFrom('none', 'default', 'chaos' as const),
      stage: fc.constantFrom('base', 'resume' as const),
    });
    fc.assert(
      fc.property(
        settings.chain((s) => fc.tuple(fc.constant(s), exploreCaseArb(s))),
        ([s, c]) => {
          const scenario = caseScenario(
            c,
            { pipeline: 'legacy-insert', stage: s.stage },
            {
              name: 'found-x',
              purpose: 'p',
              failed: ['I1'],
            },
          );
          const read = validateScenario(JSON.parse(scenarioJson(scenario)), 'found-x.json');
          expect(read).toEqual(scenario);
          expect(c.fleet.devices).toBeLessThanOrEqual(exploreFleetBounds.devicesMax);
          for (const point of c.faults.points) {
            const f = point as unknown as Record<string, number | undefined>;
            if (f.device !== undefined) expect(f.device).toBeLessThanOrEqual(c.fleet.devices);
            if (f.image !== undefined) expect(f.image).toBeLessThanOrEqual(c.fleet.images);
          }
          if (s.faults === 'none') expect(faultCount(c.faults)).toBe(0);
          if (s.stage !== 'base') expect(c.faults.points.some((p) => p.kind === 'migrate')).toBe(false);
        },
      ),
      propertyParams(300),
    );
  });

  test('a point is clamped to the fleet it lands in', () => {
    const fleet = { devices: 2, images: 1, imageKb: 20, dialect: 'fw350' as const };
    expect(clampPoint({ kind: 'reboot', device: 7, image: 3, afterChunks: 4 }, fleet)).toEqual({
      kind: 'reboot',
      device: 2,
      image: 1,
      afterChunks: 4,
    });
    expect(clampPoint({ kind: 'crash-before-ack' }, fleet)).toEqual({ kind: 'crash-before-ack' });
    expect(clampPoint({ kind: 'counter-reset', device: 5, wake: 3 }, fleet)).toEqual({
      kind: 'counter-reset',
      device: 2,
      wake: 3,
    });
  });

  test('faults are counted once each: rates on, triggers, booleans and points; parameters are not faults', () => {
    const c: ExploreCase = {
      fleet: { devices: 3, images: 2, imageKb: 40, dialect: 'spec' },
      faults: {
        device: { rebootRate: 0.1, wifiOutageRate: 0.3, wifiOutageWakes: 2 },
        network: { brokerRestartAt: ['25%'], delayMs: 200 },
        server: { twoInstances: true, slowDatabaseMs: 0 },
        points: [{ kind: 'crash-before-ack' }],
      },
      seed: 7,
    };
    expect(faultCount(c.faults)).toBe(5);
    expect(caseSize(c)).toEqual({ devices: 3, images: 6, faults: 5, imageKb: 40 });
    const scenario = caseScenario(c, target, { name: 'found-y', purpose: 'p' });
    expect(scenario.expect).toBe('pass');
    expect(scenario.modes).toEqual(['sim']);
    expect(scenario.seed).toBe(7);
  });

  test('the default stage is base only for the profiles whose bug needs no unique key', () => {
    expect(exploreStageDefault('legacy-insert')).toBe('base');
    expect(exploreStageDefault('legacy-two-writers')).toBe('base');
    expect(exploreStageDefault('legacy-reset-count')).toBe('resume');
    expect(exploreStageDefault('fixed')).toBe('resume');
  });
});
