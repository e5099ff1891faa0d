// The exact command that repeats a run: the seed plus every option that differs from its default.
import { faultFlags } from '../cli/fault-options.ts';
import { faultMixes } from '../nemesis/fault-plan.ts';
import { liveRunDefaults, type LiveRunOptions } from './run-options.ts';

const flags: [keyof LiveRunOptions, string][] = [
  ['devices', '--devices'],
  ['imagesPerDevice', '--images'],
  ['imageKbMean', '--image-kb'],
  ['chunkBytes', '--chunk-bytes'],
  ['wakesMax', '--wakes-max'],
  ['qos', '--qos'],
  ['dialect', '--dialect'],
  ['timeScale', '--time-scale'],
  ['concurrencyMax', '--concurrency'],
  ['ackTimeoutMs', '--ack-timeout-ms'],
];

export function reproduceCommand(options: LiveRunOptions): string {
  const parts = ['npm run simulate --', `--seed ${options.seed}`];
  for (const [key, flag] of flags) {
    const value = options[key];
    if (value !== (liveRunDefaults as Partial<Record<keyof LiveRunOptions, unknown>>)[key])
      parts.push(`${flag} ${String(value)}`);
  }
  if (options.timeBudgetMs !== liveRunDefaults.timeBudgetMs)
    parts.push(`--time-budget-s ${options.timeBudgetMs / 1000}`);
  return parts.join(' ');
}
