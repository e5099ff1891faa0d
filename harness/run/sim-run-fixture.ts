// The small sim run the tests and the cross-process child share: 5 devices × 2 images × 20 KB, `fixed`, the device
// faults of the default mix; and what the sim tests ask of a run: its history's sha256, its devices' MACs.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFaultPlan, faultMixes } from '../nemesis/fault-plan.ts';
import { liveRunDefaults, type LiveRunOptions } from './run-options.ts';
import { runSim, type SimRunResult } from './sim-run.ts';

export const simSmallRun: LiveRunOptions = {
  ...liveRunDefaults,
  devices: 5,
  imagesPerDevice: 2,
  imageKbMean: 20,
  seed: 20260114,
  brokerUrl: undefined,
  databaseUrl: undefined,
  timeBudgetMs: 120_000,
  faults: buildFaultPlan('none', { device: faultMixes.default.device }),
};

/** `options` with pipeline restarts at the comma-separated triggers (none when undefined or empty). */
export function simRestartRun(options: LiveRunOptions, restartAt: string | undefined): LiveRunOptions {
  const triggers = (restartAt ?? '').split(',').filter((t) => t !== '');
  if (triggers.length === 0) return options;
  return {
    ...options,
    faults: { ...options.faults, server: { ...options.faults.server, pipelineRestartAt: triggers } },
  };
}

let historyFiles = 0;

/** A sim run with its history written to a new file under `dir`, and that file's sha256 (one seed, one history). */
export async function simRunHashed(
  options: LiveRunOptions,
  dir: string,
): Promise<{ result: SimRunResult; sha256: string }> {
  const historyPath = join(dir, `history-${++historyFiles}.ndjson`);
  const result = await runSim({ ...options, historyPath });
  return { result, sha256: createHash('sha256').update(readFileSync(historyPath)).digest('hex') };
}

/** The fleet's device MACs in device order (index 0 is device 1), as a run of `options` draws them. */
export { runMacs } from './run-macs.ts';
