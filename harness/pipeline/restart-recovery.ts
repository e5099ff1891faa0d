// What a pipeline does when it starts on a database another instance was using (crashed or stopped): for the
// profiles that keep that state durable (core/profile.ts adoptsInFlight, recordsOwedAcks), it takes over the
// transfers still in flight and sends the ACK_OKs its predecessor committed but never handed to the broker.
import { recoveredAck } from './core/ack.ts';
import type { CompletionPath } from './completion-path.ts';
import type { ServiceContext } from './service-context.ts';
import { takeOwedAcks } from './store/acks-owed.ts';
import { findIncompleteRoutes } from './store/images.ts';
import { routeKey, transferFromRoute } from './transfers.ts';

/** A restarted pipeline takes over transfers whose route was touched this recently (older ones wait for their
 *  device's next wake). */
const ADOPT_UPDATED_WITHIN_MS = 10 * 60_000;

export class RestartRecovery {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly completion: CompletionPath,
  ) {}

  /**
   * Transfers still in flight become routes again, so the sweeper asks their devices for what is missing once they
   * fall idle — instead of each device waiting out its ACK timeout because its last chunks died with the crashed
   * process. The original's in-memory profiles did not.
   */
  async adoptInFlight(): Promise<void> {
    const { ctx } = this;
    if (!ctx.policy.adoptsInFlight) return;
    const routes = await ctx.retried(
      () => findIncompleteRoutes(ctx.pool, ADOPT_UPDATED_WITHIN_MS),
      'incomplete transfers',
    );
    for (const r of routes) {
      const key = routeKey(r.mac, r.wireName);
      if (ctx.routes.get(key) === undefined) {
        ctx.routes.set(key, transferFromRoute(r.mac, r.wireName, r, 'fw350', ctx.o.clock.nowMs()));
      }
    }
    if (routes.length > 0) ctx.o.log(`pipeline: took over ${routes.length} transfers in flight`);
  }

  /**
   * The ACK_OKs a crashed predecessor committed but never handed to the broker (basis `recovered`). Their devices
   * may still be awake and waiting; without this each would wait out its ACK timeout and re-send the whole image.
   * Only recent ones whose route still names the image are sent (store/acks-owed.ts): a v3.5.0 ACK_OK names only
   * the image, so one that came too late could dequeue a newer capture under a reused name.
   */
  async sendOwedAcks(): Promise<void> {
    const { ctx } = this;
    if (!ctx.policy.recordsOwedAcks) return;
    const owed = await ctx.retried(() => takeOwedAcks(ctx.pool), 'owed acks');
    for (const row of owed) {
      const ack = recoveredAck(row);
      this.completion.sendAck(ack.target, ack.wakeMs, ack.basis);
    }
    if (owed.length > 0) ctx.o.log(`pipeline: sent ${owed.length} acks a crashed instance owed`);
  }
}
