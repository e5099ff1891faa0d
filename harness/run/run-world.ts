// Which world a run talks through (ARCHITECTURE.md §8): the one its caller hands in (RunSeams.world, e.g. the sim
// world over the in-memory router, owned and closed by the caller), or a live world over the broker the run opens
// itself (aedes in this process, or MQTT_URL), which the run stops at its end.
import { describeFaultPlan, faultMixes } from '../nemesis/fault-plan.ts';
import { BrokerAuth } from '../world/broker-auth.ts';
import { openBroker, type Broker } from '../world/broker.ts';
import type { Clock } from '../world/clock.ts';
import { liveWorld } from '../world/live/live-world.ts';
import type { World } from '../world/world.ts';
import type { LiveRunOptions } from './run-options.ts';

export interface RunWorld {
  readonly world: World;
  /** The broker the run opened (and must stop); undefined when the world was given. */
  readonly broker: Broker | undefined;
}

/** A run that cannot go ahead on the world it was given (exit 2, before anything starts). */
export class RunWorldError extends Error {
  override readonly name = 'RunWorldError';
  readonly exitCode = 2;
}

/**
 * Why `options` cannot run on a given world, or undefined when they can. What a given world lacks today: a broker
 * URL for the user's own service (`--pipeline external`) and a real broker whose queue a slow subscriber overflows
 * (live-only). Network faults and broker restarts act on the sim world's router (`world.router`); a given world
 * without one has nothing for them to act on. Checked rather than skipped, so such a run never passes for having
 * injected nothing.
 */
export function givenWorldProblem(options: LiveRunOptions, world: World, clock: Clock | undefined): string | undefined {
  const where = `the ${world.mode} world given to the run (${world.brokerLabel})`;
  if (clock !== undefined && clock !== world.clock) return `a run takes one clock: ${where} brings its own`;
  if (options.brokerUrl !== undefined) return `a broker URL was given, but the run talks through ${where}`;
  if (options.pipeline === 'external')
    return `--pipeline external needs a broker URL to give the service; ${where} has none`;
  if (options.faults.network.slowSubscriber)
    return `network.slowSubscriber is live-only: it overflows a real broker's queue (MQTT_URL), which ${where} is not`;
  const network = describeFaultPlan({ ...faultMixes.none, network: options.faults.network });
  if (network !== 'none' && world.router === undefined)
    return `network faults (${network}) act on the embedded broker or the sim world's router, not on ${where}`;
  return undefined;
}

/** The given world (after givenWorldProblem), or a live one over a broker opened now. */
export async function openRunWorld(
  options: LiveRunOptions,
  given: World | undefined,
  clock: Clock,
  onPhase: ((phase: string) => void) | undefined,
): Promise<RunWorld> {
  if (given !== undefined) return { world: given, broker: undefined };
  onPhase?.('starting the MQTT broker');
  // The embedded broker holds every client to its own topics (broker-auth.ts): a run's own secret. A service the
  // user starts by hand (--pipeline external without --external-cmd) cannot know it: then anyone may connect.
  const handStartedService = options.pipeline === 'external' && !options.externalCommand;
  if (!options.brokerUrl && handStartedService)
    onPhase?.(
      'the embedded broker lets any client in for this run: a service you start yourself cannot know the run’s logins (--external-cmd hands them over)',
    );
  const broker = await openBroker({
    url: options.brokerUrl,
    clock,
    ...(options.brokerUrl ? { ca: options.brokerCa } : handStartedService ? {} : { auth: BrokerAuth.random() }),
  });
  return { world: liveWorld(broker, clock), broker };
}
