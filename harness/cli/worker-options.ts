// `--workers N` (simulate, pipeline) and `--group` (pipeline): the pipeline's MQTT connections in one shared
// subscription (harness/pipeline/consumer-thread.ts; README "Real brokers").
import { FLEET_THREADS_MAX, FLEET_THREADS_MIN_DEVICES } from '../run/fleet-threads.ts';
import { WORKERS_EXTERNAL_DEFAULT, WORKERS_MAX, workersRefusal } from '../run/run-options.ts';
import { numberOption } from './number-option.ts';

/** simulate's default: 1 on its own broker, more on the user's. */
export const SIMULATE_WORKERS_DEFAULT = `1 on the embedded broker, ${WORKERS_EXTERNAL_DEFAULT} with --broker-url`;

export const workersOption = (defaultDescription: string) => ({
  workers: numberOption('workers', {
    defaultDescription,
    describe:
      "the pipeline's MQTT connections, in one shared subscription ($share/<group>/…: Mosquitto ≥ 1.6, EMQX, HiveMQ; not aedes) when more than 1; a broker bounds what it queues per connection and drops the rest",
  }),
});

/** Why `--workers` cannot be `workers` here, or undefined. `ownBroker`: the embedded aedes or the sim router. */
export function workersProblem(workers: number | undefined, ownBroker: boolean): string | undefined {
  if (workers === undefined) return undefined;
  if (!(Number.isInteger(workers) && workers >= 1 && workers <= WORKERS_MAX))
    return `--workers must be a whole number from 1 to ${WORKERS_MAX}, got ${workers}`;
  return workersRefusal(workers, ownBroker);
}

/** `--fleet-threads N` (simulate): the devices on N threads of their own (harness/run/fleet-threads.ts). */
export const fleetThreadsOption = {
  'fleet-threads': numberOption('fleet-threads', {
    defaultDescription: `one per core but one (at most ${FLEET_THREADS_MAX}); 0 below ${FLEET_THREADS_MIN_DEVICES} devices`,
    describe:
      "threads the devices run on besides the broker's and pipeline's (live runs); 0 keeps them on the run's own thread",
  }),
};

/** Why `--fleet-threads` cannot be `threads` here, or undefined. */
export function fleetThreadsProblem(threads: number | undefined, sim: boolean): string | undefined {
  if (threads === undefined) return undefined;
  if (!(Number.isInteger(threads) && threads >= 0 && threads <= FLEET_THREADS_MAX))
    return `--fleet-threads must be a whole number from 0 to ${FLEET_THREADS_MAX}, got ${threads}`;
  if (sim && threads > 0)
    return '--fleet-threads goes with live runs: a sim world runs every device on its one virtual clock';
  return undefined;
}
