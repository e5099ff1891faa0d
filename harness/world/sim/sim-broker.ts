// The router as a restartable broker, in the shape broker restarts act on (harness/nemesis/broker-nemesis.ts takes
// an EmbeddedBroker's `url` and `restart`): every connection cut and, without persistence, every session and queued
// message lost (router.ts: down()), connects refused for `downMs` of the world's clock, then up again — what the
// embedded aedes broker's restart does, on virtual time.
import type { Clock } from '../clock.ts';
import type { Router } from './router.ts';
import { SIM_BROKER_LABEL } from './sim-world.ts';

export interface RestartableBroker {
  /** Named in the history's broker_restart event. */
  readonly url: string;
  restart(downMs: number): Promise<void>;
}

export function simBroker(router: Router, clock: Clock): RestartableBroker {
  return {
    url: SIM_BROKER_LABEL,
    async restart(downMs) {
      router.down();
      try {
        await clock.sleep(downMs);
      } finally {
        router.up();
      }
    },
  };
}
