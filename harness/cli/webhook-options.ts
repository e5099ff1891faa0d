// `--forward-webhook URL`, `--webhook-cmd CMD`, `--webhook-timeout-ms`, `--webhook-retries`: the same flags on
// `simulate` and `scenario run` (and so in the library, which parses with the commands' own builders). They forward
// every device message to the user's handler too (harness/forwarder/README.md); live mode only.
import { WEBHOOK_RETRIES_DEFAULT, WEBHOOK_TIMEOUT_MS_DEFAULT } from '../forwarder/core.ts';
import { faultFieldsOf } from '../nemesis/fault-fields.ts';
import type { WebhookRunOptions } from '../run/run-options.ts';
import { numberOption } from './number-option.ts';
import { flagGiven, simModeProblem } from './sim-mode.ts';

const group = 'Webhook (live only):';

export const webhookOptions = {
  'forward-webhook': {
    type: 'string',
    describe:
      'also POST every device message as {"topic", "payload"} to this URL (your edge function), beside the pipeline, with the forwarder’s own timeout, retries and faults (simulate’s --webhook-*-rate flags, a scenario’s faults.webhook). Live only: --mode sim refuses it (an HTTP handler is outside the deterministic process)',
    group,
  },
  'webhook-cmd': {
    type: 'string',
    describe:
      'a shell command that starts your handler, given DATABASE_URL (the run’s database) and PORT (a free port); camfleet waits until it listens, forwards to http://127.0.0.1:PORT/ (unless --forward-webhook names another URL) and stops it (SIGTERM) at the end',
    group,
  },
  'webhook-timeout-ms': numberOption('webhook-timeout-ms', {
    default: WEBHOOK_TIMEOUT_MS_DEFAULT,
    describe: 'the forwarder’s timeout per delivery attempt (the original mqtt-service’s 5 s)',
    group,
  }),
  'webhook-retries': numberOption('webhook-retries', {
    default: WEBHOOK_RETRIES_DEFAULT,
    describe: 'retries of a timeout, a network error or a 5xx (a 4xx is not retried)',
    group,
  }),
} as const;

export interface WebhookArgs {
  readonly 'forward-webhook'?: string | undefined;
  readonly 'webhook-cmd'?: string | undefined;
  readonly 'webhook-timeout-ms'?: number | undefined;
  readonly 'webhook-retries'?: number | undefined;
}

/** Whether the arguments forward to a webhook. */
export const forwards = (a: WebhookArgs) => a['forward-webhook'] !== undefined || a['webhook-cmd'] !== undefined;

/** What is wrong with the webhook flags, or undefined; `mode` the run's. `args`: the command line. */
export function webhookProblem(
  a: WebhookArgs,
  mode: string,
  args: readonly string[] = process.argv.slice(2),
): string | undefined {
  const url = a['forward-webhook'];
  if (url !== undefined) {
    let ok = false;
    try {
      const u = new URL(url);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
    } catch {
      ok = false;
    }
    // The value itself is redacted by the usage-error printer (it may carry a password).
    if (!ok) return `--forward-webhook: ${url} is not an http:// or https:// URL`;
  }
  if (a['webhook-cmd'] !== undefined && a['webhook-cmd'].trim() === '') return '--webhook-cmd is empty';
  const timeout = a['webhook-timeout-ms'] ?? WEBHOOK_TIMEOUT_MS_DEFAULT;
  if (!(Number.isInteger(timeout) && timeout >= 1))
    return `--webhook-timeout-ms must be a whole number ≥ 1, got ${timeout}`;
  const retries = a['webhook-retries'] ?? WEBHOOK_RETRIES_DEFAULT;
  if (!(Number.isInteger(retries) && retries >= 0 && retries <= 20))
    return `--webhook-retries must be a whole number from 0 to 20, got ${retries}`;
  if (!forwards(a)) {
    const given = [
      'webhook-timeout-ms',
      'webhook-retries',
      ...faultFieldsOf('webhook').flatMap((f) => [f.flag, ...(f.alias ? [f.alias] : [])]),
    ].find((flag) => flagGiven(flag, args));
    if (given !== undefined) return `--${given} goes with --forward-webhook or --webhook-cmd (nothing is forwarded)`;
  }
  // In sim, simModeProblem (sim-mode.ts) refuses the forwarding flags themselves.
  return mode === 'sim' && forwards(a) ? simModeProblem(a, args) : undefined;
}

/** The run's webhook options, or undefined when nothing is forwarded. */
export function webhookRunOptions(a: WebhookArgs): WebhookRunOptions | undefined {
  if (!forwards(a)) return undefined;
  return {
    url: a['forward-webhook'],
    command: a['webhook-cmd'],
    timeoutMs: a['webhook-timeout-ms'] ?? WEBHOOK_TIMEOUT_MS_DEFAULT,
    retries: a['webhook-retries'] ?? WEBHOOK_RETRIES_DEFAULT,
  };
}
