// Faults at logical points as data: one text spelling read and written back, errors that name what is wrong, the
// plan they go into (a migrate point becomes the migration) and the faults line (the reproduce command:
// harness/run/reproduce.test.ts).
import { describe, expect, test } from 'vitest';
import { buildFaultPlan, describeFaultPlan } from './fault-plan.ts';
import {
  formatFaultPoint,
  isFaultPoint,
  parseFaultPoint,
  pointBoundsProblem,
  pointListProblem,
  unsupportedPointProblem,
} from './fault-points.ts';

describe('the text spelling of a fault point', () => {
  test.each([
    ['reboot:device=2,image=1,after-chunks=5', { kind: 'reboot', device: 2, image: 1, afterChunks: 5 }],
    ['reboot:device=1,image=3,after-chunks=0', { kind: 'reboot', device: 1, image: 3, afterChunks: 0 }],
    ['counter-reset:device=4,wake=3', { kind: 'counter-reset', device: 4, wake: 3 }],
    ['migrate:in-flight=3', { kind: 'migrate', inFlight: 3 }],
    ['crash-before-ack', { kind: 'crash-before-ack' }],
    ['crash-before-ack:device=1,image=2', { kind: 'crash-before-ack', device: 1, image: 2 }],
    ['drop-puback:device=1,image=1', { kind: 'drop-puback', device: 1, image: 1 }],
    ['drop-puback:device=1,image=1,chunk=7', { kind: 'drop-puback', device: 1, image: 1, chunk: 7 }],
  ])('%s', (text, point) => {
    expect(parseFaultPoint(text)).toEqual(point);
    expect(formatFaultPoint(parseFaultPoint(text))).toBe(text);
    expect(isFaultPoint(point)).toBe(true);
  });

  test('parameters in any order are written back in the declared one', () => {
    expect(formatFaultPoint(parseFaultPoint(' reboot:after-chunks=5,image=1,device=2 '))).toBe(
      'reboot:device=2,image=1,after-chunks=5',
    );
  });

  test.each([
    ['restart:device=1', 'unknown fault point kind "restart" (kinds: reboot, counter-reset'],
    ['reboot:device=2,image=1', 'reboot: after-chunks= is missing'],
    ['reboot:device=0,image=1,after-chunks=5', 'reboot: device must be a whole number ≥ 1, got "0"'],
    ['reboot:device=2,image=1,after-chunks=-1', 'reboot: after-chunks must be a whole number ≥ 0, got "-1"'],
    ['reboot:device=2,image=1.5,after-chunks=5', 'reboot: image must be a whole number ≥ 1, got "1.5"'],
    [
      'reboot:device=2,image=1,after-chunks=5,chunk=3',
      'reboot: unknown parameter "chunk" (parameters: device, image, after-chunks)',
    ],
    ['counter-reset:device=2,device=3,wake=1', 'counter-reset: device given twice'],
    ['counter-reset:device=2,wake', 'counter-reset: wake must be a whole number ≥ 1, got ""'],
    ['migrate:in-flight=0', 'migrate: in-flight must be a whole number ≥ 1, got "0"'],
  ])('%s is refused', (text, message) => {
    expect(() => parseFaultPoint(text)).toThrow(message);
  });

  test('a point read back from JSON is checked field by field', () => {
    expect(isFaultPoint({ kind: 'reboot', device: 2, image: 1 })).toBe(false);
    expect(isFaultPoint({ kind: 'reboot', device: 2, image: 1, afterChunks: 5, extra: 1 })).toBe(false);
    expect(isFaultPoint({ kind: 'counter-reset', device: 0, wake: 1 })).toBe(false);
    expect(isFaultPoint('reboot:device=2,image=1,after-chunks=5')).toBe(false);
  });
});

describe('what a run can strike', () => {
  const bounds = { devices: 3, imagesPerDevice: 2 };
  test('a device or image the fleet never has', () => {
    expect(pointBoundsProblem(parseFaultPoint('reboot:device=9,image=1,after-chunks=5'), bounds)).toBe(
      'device 9 of a 3-device fleet (devices are numbered 1..3)',
    );
    expect(pointBoundsProblem(parseFaultPoint('reboot:device=3,image=3,after-chunks=5'), bounds)).toContain(
      'image 3, but each device captures 2',
    );
    expect(pointBoundsProblem(parseFaultPoint('counter-reset:device=3,wake=40'), bounds)).toBeUndefined();
    expect(pointBoundsProblem(parseFaultPoint('migrate:in-flight=40'), bounds)).toBeUndefined();
  });

  test('repeats and two migrations', () => {
    const reboot = parseFaultPoint('reboot:device=1,image=1,after-chunks=5');
    const migrate = parseFaultPoint('migrate:in-flight=2');
    expect(pointListProblem([reboot, reboot], false)).toBe(
      'fault point reboot:device=1,image=1,after-chunks=5 is given twice',
    );
    expect(pointListProblem([migrate], true)).toContain('the plan already has a migration');
    expect(pointListProblem([migrate, parseFaultPoint('migrate:in-flight=3')], false)).toContain('one migrate point');
    expect(pointListProblem([reboot, migrate], false)).toBeUndefined();
  });

  test('drop-puback is refused only where camfleet does not write the PUBACKs (a broker at a URL)', () => {
    const puback = parseFaultPoint('drop-puback:device=1,image=1,chunk=2');
    expect(unsupportedPointProblem([puback])).toBeUndefined();
    expect(unsupportedPointProblem([puback], true)).toBeUndefined();
    expect(unsupportedPointProblem([puback], false)).toBe(
      'fault point drop-puback:device=1,image=1,chunk=2: needs the embedded broker or --mode sim (a broker at a URL writes its own PUBACKs: camfleet cannot drop one there)',
    );
    for (const other of ['crash-before-ack:device=1,image=1', 'reboot:device=1,image=1,after-chunks=1'])
      expect(unsupportedPointProblem([parseFaultPoint(other)], false)).toBeUndefined();
  });
});

describe('points in a fault plan', () => {
  const reboot = parseFaultPoint('reboot:device=2,image=1,after-chunks=5');
  const reset = parseFaultPoint('counter-reset:device=1,wake=2');

  test('kept in order, printed in the faults line', () => {
    const plan = buildFaultPlan('none', { points: [reboot, reset] });
    expect(plan.points).toEqual([reboot, reset]);
    expect(describeFaultPlan(plan)).toBe(
      'point=reboot:device=2,image=1,after-chunks=5 point=counter-reset:device=1,wake=2',
    );
  });

  test('a migrate point is the migration at its in-flight trigger', () => {
    const plan = buildFaultPlan('none', { points: [reboot, parseFaultPoint('migrate:in-flight=3')] });
    expect(plan.migration).toEqual({ at: '3-in-flight' });
    expect(plan.points).toEqual([reboot]);
    expect(describeFaultPlan(plan)).toBe('migration.at=3-in-flight point=reboot:device=2,image=1,after-chunks=5');
  });

  test('a migrate point beside another migration is refused', () => {
    expect(() =>
      buildFaultPlan('none', { migration: { at: '40%' }, points: [parseFaultPoint('migrate:in-flight=3')] }),
    ).toThrow('the plan already has a migration');
  });
});
