// `--forward-webhook URL` / `--webhook-cmd CMD` (harness/forwarder/README.md): besides the run's pipeline, every
// device message also goes to the user's handler, as the original mqtt-service sent each one to its edge function
// (PROTOCOL.md §7.2). A handler command is started with DATABASE_URL (the run's fresh database) and PORT (a free
// port), waited for until it listens, and stopped (SIGTERM) with the run. The forwarder starts after the pipeline
// (an external pipeline's wait for a data subscriber must not take the forwarder's for it) and before the fleet.
import { policyOf } from '../pipeline/core/profile.ts';
import { EdgeRendezvous } from '../forwarder/rendezvous.ts';
import { startForwarder, type Forwarder } from '../forwarder/start.ts';
import { freePort } from '../world/free-port.ts';
import { redactUrl } from '../world/redact.ts';
import { serverSubscriptionsFor } from '../../simulator/protocol/index.ts';
import { startUserCommand, waitForPort } from './external-service.ts';
import { simulatedMacs } from './run-macs.ts';
import type { RunContext, RunResources } from './run-context.ts';
import type { RunSetup } from './run-setup.ts';
import { RunWorldError } from './run-world.ts';

/** How long a handler command may take to listen on its port. */
const HANDLER_LISTEN_TIMEOUT_MS = 30_000;

/**
 * legacy-two-writers forwarding to the user's handler: the handler is the edge function, and the pipeline's race
 * gate meets the forwarder (rendezvous.ts). Undefined for any other run.
 */
export function webhookRendezvous(run: RunContext): EdgeRendezvous | undefined {
  const { options } = run;
  if (options.webhook === undefined || options.pipeline === 'external') return undefined;
  return policyOf(options.pipeline).edgeWriter ? new EdgeRendezvous(run.clock, run.history) : undefined;
}

/** The forwarder (and the handler command) of a run that forwards; undefined for one that does not. */
export async function startWebhook(
  run: RunContext,
  setup: RunSetup,
  resources: RunResources,
  rendezvous: EdgeRendezvous | undefined,
): Promise<Forwarder | undefined> {
  const { options, hooks, clock, history } = run;
  const webhook = options.webhook;
  if (webhook === undefined) return undefined;
  const broker = setup.broker;
  if (broker === undefined || setup.world.mode === 'sim')
    throw new RunWorldError(
      '--forward-webhook needs a live run (the broker the run opens): a sim run is one deterministic process, and an HTTP handler is outside it',
    );
  let url = webhook.url;
  if (webhook.command !== undefined) {
    const databaseUrl = setup.database.scratch.url;
    const port = await freePort();
    hooks.onPhase?.(`starting the webhook handler (PORT ${port}, DATABASE_URL ${redactUrl(databaseUrl)})`);
    const handler = startUserCommand(
      webhook.command,
      { DATABASE_URL: databaseUrl, PORT: String(port) },
      'webhook',
      [databaseUrl, broker.url, ...(url === undefined ? [] : [url])],
      (line) => hooks.onPhase?.(line),
      clock,
      webhook.cwd,
    );
    resources.cleanups.push(() => handler.stop());
    await waitForPort(port, HANDLER_LISTEN_TIMEOUT_MS, clock, handler.exited).catch((error: unknown) => {
      throw new RunWorldError(`--webhook-cmd: ${(error as Error).message}`);
    });
    url ??= `http://127.0.0.1:${port}/`;
  }
  if (url === undefined) throw new RunWorldError('--forward-webhook needs a URL, or --webhook-cmd to start a handler');
  hooks.onPhase?.(
    `forwarding every device message to ${redactUrl(url)} (timeout ${webhook.timeoutMs} ms, ${webhook.retries} retries${rendezvous === undefined ? '' : '; the handler is legacy-two-writers’ edge function'})`,
  );
  const forwarder = await startForwarder({
    brokerUrl: broker.url,
    brokerCa: broker.ca,
    url,
    timeoutMs: webhook.timeoutMs,
    retries: webhook.retries,
    faults: options.faults.webhook,
    rng: run.rng.fork('forwarder'),
    history,
    clock,
    ...(rendezvous === undefined ? {} : { hooks: rendezvous.hooks }),
    // A shard forwards its own devices' messages, as its pipeline serves them (run-setup.ts).
    ...(options.shard === undefined ? {} : { subscriptions: serverSubscriptionsFor(simulatedMacs(options)) }),
    log: (line) => hooks.onPhase?.(line),
  });
  // The quiet period waited for the deliveries under way; at teardown (a run cut short too) only briefly.
  resources.cleanups.push(() => forwarder.stop(2_000));
  return forwarder;
}

/** How long the quiet period waits for the forwarder's deliveries under way (retries and held copies included). */
export function forwarderIdleMaxMs(run: RunContext): number {
  const webhook = run.options.webhook;
  if (webhook === undefined) return 0;
  return (webhook.retries + 1) * (webhook.timeoutMs + 2_000) + run.options.faults.webhook.slowMs + 5_000;
}
