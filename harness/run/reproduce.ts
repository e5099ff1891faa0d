// The exact command that repeats a run: the seed plus every option that differs from its default.
import type { RunMode } from './run-mode.ts';
import { commandFor } from './command-line.ts';
import { faultFields, faultPointsField } from '../nemesis/fault-fields.ts';
import { faultMixes, type FaultMix } from '../nemesis/fault-plan.ts';
import { formatFaultPoint } from '../nemesis/fault-points.ts';
import { WEBHOOK_RETRIES_DEFAULT, WEBHOOK_TIMEOUT_MS_DEFAULT } from '../forwarder/core.ts';
import { redactUrl } from '../world/redact.ts';
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

/** `mode`: a sim run's command says `--mode sim` (live is the default). */
export function reproduceCommand(options: LiveRunOptions, mode: RunMode = 'live'): string {
  const parts = [commandFor('simulate'), `--seed ${options.seed}`];
  for (const [key, flag] of flags) {
    const value = options[key];
    if (value !== (liveRunDefaults as Partial<Record<keyof LiveRunOptions, unknown>>)[key])
      parts.push(`${flag} ${JSON.stringify(value).replace(/^"|"$/g, '')}`);
  }
  if (options.timeBudgetMs !== liveRunDefaults.timeBudgetMs)
    parts.push(`--time-budget-s ${options.timeBudgetMs / 1000}`);
  if (options.pipeline !== liveRunDefaults.pipeline) parts.push(`--pipeline ${options.pipeline}`);
  if (options.firmware !== liveRunDefaults.firmware) parts.push(`--firmware ${options.firmware}`);
  if (options.ackNamesCapture) parts.push('--ack-names-capture');
  if (options.stage !== liveRunDefaults.stage) parts.push(`--stage ${options.stage}`);
  const webhook = options.webhook;
  if (webhook !== undefined) {
    // A URL is printed without its password (the user puts it back); a command is quoted for the shell.
    if (webhook.command !== undefined) parts.push(`--webhook-cmd '${webhook.command.replace(/'/g, `'\\''`)}'`);
    if (webhook.url !== undefined) parts.push(`--forward-webhook ${redactUrl(webhook.url)}`);
    if (webhook.timeoutMs !== WEBHOOK_TIMEOUT_MS_DEFAULT) parts.push(`--webhook-timeout-ms ${webhook.timeoutMs}`);
    if (webhook.retries !== WEBHOOK_RETRIES_DEFAULT) parts.push(`--webhook-retries ${webhook.retries}`);
  }
  // The CLI's default mix needs no flag, another mix its name; any other plan every fault as its own flag, on
  // top of `--faults none`.
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  // Points are flags of their own after the mix's (every mix has none), so a mix plus points is still that mix.
  const withoutPoints = { ...options.faults, points: [] };
  const mix = (Object.keys(faultMixes) as FaultMix[]).find((m) => same(faultMixes[m], withoutPoints));
  if (mix !== undefined) {
    if (mix !== 'default') parts.push(`--faults ${mix}`);
  } else {
    parts.push('--faults none');
    const none = faultMixes.none as unknown as Record<string, Record<string, unknown>>;
    const plan = options.faults as unknown as Record<string, Record<string, unknown>>;
    // The migration comes last: no migration is `null`, so its `at` reads as undefined, as in the `none` mix.
    for (const f of faultFields) {
      const value = plan[f.group]?.[f.key];
      if (same(value, none[f.group]?.[f.key])) continue;
      if (f.kind === 'switch') parts.push(value === true ? `--${f.flag}` : `--no-${f.flag}`);
      else parts.push(`--${f.flag} ${Array.isArray(value) ? value.join(' ') : String(value)}`);
    }
  }
  // The spelling has no character a shell treats specially (letters, digits, `:`, `,`, `=`, `-`): no quotes.
  for (const point of options.faults.points) parts.push(`--${faultPointsField.flag} ${formatFaultPoint(point)}`);
  if (mode === 'sim') parts.push('--mode sim');
  return parts.join(' ');
}
