// The webhook options from code: simulate() and runScenario() take the command's flags camelCased, so forwarding,
// the handler command and the forwarder's faults (webhook5xxRate…) work and are refused as the command refuses them.
import { describe, expect, test } from 'vitest';
import { primaryTarget } from '../test/databases.ts';
import { runScenario, simulate, UsageError } from './index.ts';

const databaseUrl = primaryTarget().server?.url;
const handler = 'node examples/webhook-handler/handler.mjs --mode correct';

describe('the library forwards to a webhook', () => {
  test('simulate(): a handler it starts, the forwarder’s faults, its counters in the stats', async () => {
    const result = await simulate({
      ...{ devices: 2, images: 1, imageKb: 8, faults: 'none', seed: 3, databaseUrl },
      webhookCmd: handler,
      webhookTimeoutMs: 300,
      webhook5xxRate: 0.5,
      webhookDuplicateRate: 0.5,
    });
    expect(result.verdict, result.table).toBe('pass');
    expect(result.stats.webhook?.answered5xx).toBeGreaterThan(0);
    expect(result.stats.webhook?.copies).toBeGreaterThan(result.stats.webhook?.messages ?? Infinity);
    expect(result.reproduceCommand).toContain(`--webhook-cmd '${handler}'`);
    expect(result.reproduceCommand).toMatch(/--webhook-5xx-rate 0\.5/);
  }, 60_000);

  test('refused as the command refuses: sim, a fault with nothing forwarded', async () => {
    await expect(simulate({ mode: 'sim', forwardWebhook: 'http://127.0.0.1:9/' })).rejects.toThrow(
      /--mode sim cannot forward to a webhook/,
    );
    await expect(simulate({ webhookSlowRate: 0.5 })).rejects.toThrow(/--webhook-slow-rate goes with --forward-webhook/);
    await expect(runScenario('webhook-correct-handler', { mode: 'sim', webhookCmd: handler })).rejects.toBeInstanceOf(
      UsageError,
    );
  });
});
