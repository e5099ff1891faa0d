// The small sim run the tests and the cross-process child share: 5 devices × 2 images × 20 KB, `fixed`, the device
// faults of the default mix (network faults are not for sim yet, run-world.ts).
import { buildFaultPlan, faultMixes } from '../nemesis/fault-plan.ts';
import { liveRunDefaults, type LiveRunOptions } from './run-options.ts';

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
