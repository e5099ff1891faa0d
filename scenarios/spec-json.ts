// A scenario spec back to the JSON file it is read from (spec.ts reads it): what `npm run explore` writes for a
// counterexample. Fault points are written in their text spelling (`--fault-at`), every other field as it is, in the
// order the catalogue's files use, so a written file reads like a hand-written one and validates to the same spec.
import { formatFaultPoint } from '../harness/nemesis/fault-points.ts';
import type { Scenario } from './spec.ts';

/** The spec's file contents (two-space indent, one trailing newline). */
export function scenarioJson(scenario: Scenario): string {
  const { points, ...faults } = scenario.faults;
  const ordered = {
    name: scenario.name,
    purpose: scenario.purpose,
    fleet: scenario.fleet,
    pipeline: scenario.pipeline,
    firmware: scenario.firmware,
    ackNamesCapture: scenario.ackNamesCapture,
    stage: scenario.stage,
    faults: { ...faults, ...(points === undefined ? {} : { points: points.map(formatFaultPoint) }) },
    timeBudgetS: scenario.timeBudgetS,
    seed: scenario.seed,
    operator: scenario.operator,
    exercises: scenario.exercises,
    expect: scenario.expect,
    modes: scenario.modes,
    liveOnlyBecause: scenario.liveOnlyBecause,
    simOnlyBecause: scenario.simOnlyBecause,
    webhook: scenario.webhook,
  };
  // JSON.stringify leaves out the fields that are undefined.
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
