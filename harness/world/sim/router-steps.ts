// The router's deliveries as scheduler steps: each head of a (publisher, subscriber connection) FIFO is one step,
// so the scheduler decides which publisher's message a subscriber gets next while each publisher's own order holds
// (MQTT 3.1.1 §4.6). The router must be in manual delivery mode, else it drains by itself and nothing is chosen.
import type { Router } from './router.ts';
import type { SimStep, StepSource } from './scheduler.ts';

export function routerSteps(router: Router): StepSource {
  return {
    steps: (): SimStep[] =>
      router.deliverable().map((d) => ({
        // The delivery id grows in routing order, which the schedule so far decides: stable across runs. Read only
        // for the step chosen.
        get label() {
          return `deliver #${d.id} ${d.publisherId}>${d.subscriberId} ${d.topic}${d.dup ? ' dup' : ''}`;
        },
        run: () => router.deliver(d),
      })),
  };
}
