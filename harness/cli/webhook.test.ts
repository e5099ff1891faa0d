// The webhook flags as a user meets them: checked before anything starts (a bad URL, a fault flag with nothing
// forwarded, forwarding in sim: exit 2, one line), a handler command that dies before it listens named as such, a
// password in the URL never printed, and Ctrl-C stopping the handler camfleet started.
import { connect } from 'node:net';
import { describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { runCli, startNpmScript } from '../../test/run-cli.ts';
import { webhookProblem, webhookRunOptions } from './webhook-options.ts';

const env = { DATABASE_URL: primaryTarget().server?.url, MQTT_URL: undefined };
const small = ['--devices', '2', '--images', '1', '--image-kb', '8', '--faults', 'none', '--seed', '4'];

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

describe('webhook flags', () => {
  test('what they make, and what they refuse', () => {
    expect(webhookRunOptions({})).toBeUndefined();
    expect(webhookRunOptions({ 'webhook-cmd': 'node h.mjs' })).toEqual({
      url: undefined,
      command: 'node h.mjs',
      timeoutMs: 5000,
      retries: 3,
    });
    expect(webhookProblem({ 'forward-webhook': 'http://127.0.0.1:8080/hook' }, 'live', [])).toBeUndefined();
    expect(webhookProblem({ 'forward-webhook': 'ftp://x/' }, 'live', [])).toMatch(/not an http/);
    expect(webhookProblem({ 'forward-webhook': 'http://x/', 'webhook-retries': 1.5 }, 'live', [])).toMatch(
      /--webhook-retries must be a whole number/,
    );
    expect(webhookProblem({ 'forward-webhook': 'http://x/', 'webhook-timeout-ms': 0 }, 'live', [])).toMatch(
      /--webhook-timeout-ms/,
    );
    expect(webhookProblem({}, 'live', ['--webhook-5xx-rate', '0.5'])).toBe(
      '--webhook-5xx-rate goes with --forward-webhook or --webhook-cmd (nothing is forwarded)',
    );
    expect(webhookProblem({ 'forward-webhook': 'http://x/' }, 'sim', [])).toMatch(/--mode sim cannot forward/);
  });

  test('simulate refuses forwarding in sim, and --help says it is live only', async () => {
    const r = await runCli('simulate.ts', ['--mode', 'sim', '--forward-webhook', 'http://127.0.0.1:9/'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--mode sim cannot forward to a webhook/);
    const help = await runCli('simulate.ts', ['--help'], env);
    expect(help.stdout).toMatch(/--forward-webhook/);
    expect(help.stdout).toMatch(/Live only: --mode sim refuses it/);
    expect(help.stdout).toMatch(/--webhook-slow-rate/);
  });

  test('a handler command that exits before it listens: exit 2, said so', async () => {
    const r = await runCli('simulate.ts', [...small, '--webhook-cmd', 'echo broken; exit 3'], env);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr + r.stdout).toMatch(/--webhook-cmd: the command exited \(code 3\) before it listened on port/);
    expect(r.stdout).toMatch(/\[webhook\] broken/);
  }, 60_000);

  test('a password in the webhook URL is never printed (nothing listens: every delivery fails and is given up)', async () => {
    const r = await runCli(
      'simulate.ts',
      [...small, '--forward-webhook', 'http://hook:s3cret@127.0.0.1:9/', '--webhook-retries', '0', '--json'],
      env,
    );
    expect(r.code, r.stderr).toBe(0); // the pipeline's verdict: the webhook is beside it
    expect(r.stdout + r.stderr).not.toContain('s3cret');
    const summary = JSON.parse(r.stdout) as { webhook: { gaveUp: number; networkErrors: number } };
    expect(summary.webhook.gaveUp).toBeGreaterThan(0);
    expect(summary.webhook.networkErrors).toBe(summary.webhook.gaveUp);
  }, 60_000);

  test('Ctrl-C (the terminal’s: npm and everything in its group) stops the run and the handler camfleet started', async () => {
    // The handler runs in a process group of its own, out of the terminal's reach: camfleet must stop it.
    const npm = startNpmScript(
      'simulate',
      [
        ...['--devices', '20', '--images', '8', '--faults', 'none', '--time-scale', '100'],
        ...['--webhook-cmd', 'node examples/webhook-handler/handler.mjs --mode correct'],
      ],
      env,
    );
    try {
      let out = '';
      npm.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      await npm.waitForOutput(/forwarding every device message/, 30_000);
      const port = Number(/webhook handler \(correct\) listening on 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
      expect(await listening(port)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 500)); // the fleet is under way
      process.kill(-(npm.child.pid ?? 0), 'SIGINT');
      const done = await npm.done;
      expect(done.stdout, `${done.code} ${done.stderr}`).toMatch(/verdict: UNKNOWN \(interrupted\)/);
      expect(await listening(port)).toBe(false);
    } finally {
      try {
        process.kill(-(npm.child.pid ?? 0), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }, 90_000);
});
