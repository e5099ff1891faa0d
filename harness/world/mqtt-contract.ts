// One contract for every MQTT broker a world can give the fleet and the pipeline (ARCHITECTURE.md §8): declared
// once here, run by mqtt-contract.test.ts against aedes over TCP with the mqtt.js adapters and against the sim
// world's in-memory router with its adapters — as aedes-persistence's abstract tests run against every backend.
// Only what both must do is here; what the router models beyond aedes is in harness/world/sim/router*.test.ts.
//
// Nothing here waits for a time and then asserts that something was fast. To show that a message did NOT arrive,
// the test first waits for a later message of the same publisher to arrive somewhere (per-publisher order then says
// the broker has dealt with the earlier one) and then lets `settle()` carry whatever is still in flight.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MqttLink } from '../pipeline/mqtt-link.ts';
import type { DeviceTransport, DeviceTransportEvents } from '../../simulator/transport/mqtt-transport.ts';

export interface ContractLinkOptions {
  readonly clientId: string;
  readonly subscriptions: readonly string[];
  readonly onMessage: (topic: string, payload: Buffer) => void;
  readonly pressured: () => boolean;
  /** Messages the link may take in before pressured() holds the rest back (PipelineLinkOptions.queueMax). */
  readonly queueMax: number;
}

/** A fresh broker and ways to attach clients to it. */
export interface MqttBrokerUnderTest {
  /** A device transport (QoS for its publishes and subscriptions), not yet connected. */
  device(clientId: string, qos: 0 | 1, events: DeviceTransportEvents): DeviceTransport;
  /** A connected pipeline link (QoS 1, clean session, reconnects by itself). */
  link(options: ContractLinkOptions): Promise<MqttLink>;
  /** Lets what is already on its way arrive (used only before asserting that something did not). */
  settle(): Promise<void>;
  /** Restarts the broker (every client cut, in-memory state lost); resolves once it accepts connections again. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

interface Received {
  readonly topic: string;
  readonly payload: string;
}

const WAIT_MS = 20_000;
/** What a contract link may take in before pressure holds the rest back. */
const LINK_QUEUE_MAX = 5;

/** Polls `condition` every 10 ms for up to `withinMs`; says whether it came to hold. */
async function waitFor(condition: () => boolean, withinMs: number): Promise<boolean> {
  for (let waitedMs = 0; !condition(); waitedMs += 10) {
    if (waitedMs >= withinMs) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/** Waits until `condition` holds; only a broken broker makes it fail (after WAIT_MS). */
async function until(condition: () => boolean, what: string): Promise<void> {
  if (!(await waitFor(condition, WAIT_MS))) throw new Error(`timed out waiting for ${what}`);
}

const topics = (got: readonly Received[]) => got.map((m) => m.topic);
const has = (got: readonly Received[], topic: string) => got.some((m) => m.topic === topic);

export function describeMqttContract(name: string, open: () => Promise<MqttBrokerUnderTest>): void {
  describe(`MQTT contract: ${name}`, () => {
    let broker: MqttBrokerUnderTest | undefined;
    beforeEach(async () => {
      broker = await open();
    });
    afterEach(async () => {
      await broker?.close();
      broker = undefined;
    });
    const current = (): MqttBrokerUnderTest => {
      if (!broker) throw new Error('no broker');
      return broker;
    };

    async function device(clientId: string, subscriptions: readonly string[] = [], qos: 0 | 1 = 1) {
      const got: Received[] = [];
      const lost: string[] = [];
      const transport = current().device(clientId, qos, {
        onMessage: (topic, payload) => got.push({ topic, payload: payload.toString() }),
        onLost: (reason) => lost.push(reason),
      });
      await transport.connect(subscriptions);
      return { transport, got, lost };
    }

    async function link(clientId: string, subscriptions: readonly string[], pressured: () => boolean = () => false) {
      const got: Received[] = [];
      const l = await current().link({
        clientId,
        subscriptions,
        pressured,
        queueMax: LINK_QUEUE_MAX,
        onMessage: (topic, payload) => got.push({ topic, payload: payload.toString() }),
      });
      return { link: l, got };
    }

    it('a subscriber receives what matches its filters and nothing else', async () => {
      const s = await device('S', ['c/+/data', 'c/ctl/#']);
      const all = await link('ALL', ['#']);
      const p = await device('P');
      const sent = ['c/A/data', 'c/A/data/x', 'c/ctl', 'c/ctl/a/b', 'c/A/B/data', 'd/A/data', 'C/A/data', 'c/B/data'];
      for (const topic of [...sent, 'c/ctl/end']) p.transport.publish(topic, 'x');
      await until(() => has(s.got, 'c/ctl/end') && has(all.got, 'c/ctl/end'), 'the last message');
      expect(topics(s.got)).toEqual(['c/A/data', 'c/ctl', 'c/ctl/a/b', 'c/B/data', 'c/ctl/end']);
      expect(topics(all.got)).toEqual([...sent, 'c/ctl/end']);
    });

    it("per-publisher order: 3 publishers × 200 numbered messages, each subscriber sees each publisher's in order", async () => {
      const s = await device('S', ['o/+/n']);
      const l = await link('L', ['o/#']);
      const publishers = await Promise.all([0, 1, 2].map((i) => device(`P${i}`)));
      for (let n = 0; n < 200; n++) publishers.forEach((p, i) => p.transport.publish(`o/P${i}/n`, `${n}`));
      await until(() => s.got.length >= 600 && l.got.length >= 600, 'all 600 messages at both subscribers');
      const expected = Array.from({ length: 200 }, (_, n) => `${n}`);
      for (const got of [s.got, l.got]) {
        expect(got).toHaveLength(600);
        for (let i = 0; i < 3; i++) {
          expect(got.filter((m) => m.topic === `o/P${i}/n`).map((m) => m.payload)).toEqual(expected);
        }
      }
    });

    it('QoS 1 delivery to a connected subscriber is complete', async () => {
      const d = await device('D', ['cmd/D']);
      const l = await link('L', ['none/#']);
      await Promise.all(Array.from({ length: 300 }, (_, n) => l.link.publish('cmd/D', `${n}`)));
      await until(() => d.got.length >= 300, '300 messages');
      await current().settle();
      expect(d.got.map((m) => m.payload)).toEqual(Array.from({ length: 300 }, (_, n) => `${n}`));
    });

    it('unsubscribe stops delivery', async () => {
      const l = await link('L', ['u/#']);
      const witness = await device('W', ['u/#']);
      const p = await device('P');
      p.transport.publish('u/1', 'x');
      await until(() => has(l.got, 'u/1') && has(witness.got, 'u/1'), 'u/1');
      await l.link.unsubscribe();
      p.transport.publish('u/2', 'x');
      await until(() => has(witness.got, 'u/2'), 'u/2 at the witness');
      await current().settle();
      expect(topics(l.got)).toEqual(['u/1']);
    });

    it('a clean-session client that disconnects misses what was published meanwhile', async () => {
      const s = await device('S', ['m/#']);
      const witness = await device('W', ['m/#']);
      const p = await device('P');
      p.transport.publish('m/1', 'x');
      await until(() => has(s.got, 'm/1') && has(witness.got, 'm/1'), 'm/1');
      await s.transport.disconnect();
      p.transport.publish('m/2', 'x');
      await until(() => has(witness.got, 'm/2'), 'm/2 at the witness');
      await s.transport.connect(['m/#']);
      p.transport.publish('m/3', 'x');
      await until(() => has(s.got, 'm/3'), 'm/3');
      expect(topics(s.got)).toEqual(['m/1', 'm/3']);
    });

    it("pressured() holds deliveries back past the link's queue, and they all arrive after it clears", async () => {
      let pressured = true;
      const l = await link('L', ['p/#'], () => pressured);
      const witness = await device('W', ['p/#']);
      const p = await device('P');
      for (let n = 0; n < 50; n++) p.transport.publish('p/n', `${n}`);
      await until(() => witness.got.length >= 50 && l.got.length >= 1, 'the burst at the witness');
      await current().settle();
      // What the link's queue holds (one for a link without one), in order, and nothing after it.
      const taken = l.got.map((m) => m.payload);
      expect(taken.length).toBeLessThanOrEqual(LINK_QUEUE_MAX);
      expect(taken).toEqual(Array.from({ length: taken.length }, (_, n) => `${n}`));
      pressured = false;
      await until(() => l.got.length >= 50, 'the rest after the pressure cleared');
      expect(l.got.map((m) => m.payload)).toEqual(Array.from({ length: 50 }, (_, n) => `${n}`));
    });

    it("a device's onLost fires when the broker restarts, and after it a pipeline link gets messages again", async () => {
      const d = await device('D', ['r/D']);
      const l = await link('L', ['r/#']);
      await current().restart();
      await until(() => d.lost.length > 0, "the device's onLost");
      expect(d.transport.connected).toBe(false);
      expect(d.lost).toHaveLength(1);
      // The link reconnects and subscribes again by itself, on its own schedule: publish until one arrives.
      const p = await device('P');
      let arrived = false;
      for (let n = 0; n < 40 && !arrived; n++) {
        p.transport.publish('r/after', `${n}`);
        arrived = await waitFor(() => l.got.length > 0, 500);
      }
      expect(arrived).toBe(true);
      expect(topics(l.got).every((t) => t === 'r/after')).toBe(true);
    });
  });
}
