// `--pipeline external`: the user's own ingestion service is the system under test. camfleet starts no pipeline;
// it starts the user's command (if given) with MQTT_URL and DATABASE_URL pointing at the run's broker and fresh
// database, waits until something subscribes to the device data topics (embedded broker) or a fixed delay
// (external broker), drives the fleet, and stops the command (SIGTERM) at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import type { Aedes } from 'aedes';
import { settledWithin, type Clock } from '../world/clock.ts';
import { realClock } from '../world/live/real-clock.ts';
import { redactText } from '../world/redact.ts';

export interface ExternalService {
  stop(): Promise<void>;
}

/** How the user's command ended. */
export interface CommandExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const dataTopics = ['ESP32CAM/+/data', 'device/+/data', 'ESP32CAM/#', 'device/#', '#'];

/**
 * Resolves when a client subscribes to the device data topics on this broker; rejects after timeoutMs on `clock`, or
 * at once when `commandExit` settles first (the user's command ended before it subscribed: waiting is pointless).
 */
export function waitForIngestionSubscriber(
  aedes: Aedes,
  timeoutMs: number,
  clock: Clock = realClock,
  commandExit?: Promise<CommandExit>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      aedes.removeListener('subscribe', onSubscribe);
      if (error === undefined) resolve();
      else reject(error);
    };
    const timer = clock.setTimeout(
      () => finish(new Error(`no service subscribed to the device data topics within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    function onSubscribe(subscriptions: { topic: string }[]) {
      if (subscriptions.some((s) => dataTopics.includes(s.topic) || s.topic.endsWith('/+/data'))) finish();
    }
    aedes.on('subscribe', onSubscribe);
    // A command that exits 0 may have started the service in the background (a launcher): keep waiting for it.
    void commandExit?.then(({ code, signal }) => {
      if (code === 0 && signal === null) return;
      finish(
        new Error(
          `the command exited (${signal ?? `code ${code}`}) before it subscribed to the device data topics (its output is above)`,
        ),
      );
    });
  });
}

/** `clock`: the grace period between SIGTERM and SIGKILL at stop() runs on it (default realClock). */
export function startExternalCommand(
  command: string,
  env: { brokerUrl: string; databaseUrl: string },
  log: (line: string) => void,
  clock: Clock = realClock,
): ExternalService & { readonly child: ChildProcess; readonly exited: Promise<CommandExit> } {
  return startUserCommand(
    command,
    { MQTT_URL: env.brokerUrl, DATABASE_URL: env.databaseUrl },
    'external',
    [env.brokerUrl, env.databaseUrl],
    log,
    clock,
  );
}

/**
 * A command of the user's (their service, their webhook handler) with `env` added to ours, in a process group of
 * its own; its output reaches `log` line by line, prefixed `[label]`, with the passwords of `secretUrls` masked.
 * stop(): SIGTERM to the group, SIGKILL after 10 s.
 */
export function startUserCommand(
  command: string,
  env: Readonly<Record<string, string>>,
  label: string,
  secretUrls: readonly string[],
  log: (line: string) => void,
  clock: Clock = realClock,
  cwd?: string,
): ExternalService & { readonly child: ChildProcess; readonly exited: Promise<CommandExit> } {
  const child = spawn(command, {
    shell: true,
    ...(cwd === undefined ? {} : { cwd }),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so stop() reaches the service behind `sh -c` / `npm run`
  });
  const relay = (data: Buffer) => {
    // The user's command may print the URLs it was given; its lines reach our output with the passwords masked.
    for (const line of data.toString().split('\n')) if (line.trim()) log(redactText(`[${label}] ${line}`, secretUrls));
  };
  child.stdout?.on('data', relay);
  child.stderr?.on('data', relay);
  const exited = new Promise<CommandExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  // Its own process group is out of a terminal's Ctrl-C: if camfleet exits without stop() (a second Ctrl-C, a
  // crash), the group is told to go rather than left holding its port and database connections.
  const stopOnExit = () => {
    try {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null)
        process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  process.once('exit', stopOnExit);
  child.once('exit', () => process.removeListener('exit', stopOnExit));
  return {
    child,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const signalGroup = (signal: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          // already gone
        }
      };
      signalGroup('SIGTERM');
      if (!(await settledWithin(clock, exited, 10_000))) signalGroup('SIGKILL');
    },
  };
}

/**
 * Resolves when something accepts TCP connections on 127.0.0.1:`port`; rejects after `timeoutMs` on `clock`, or at
 * once when `commandExit` settles first (the command ended before it listened).
 */
export function waitForPort(
  port: number,
  timeoutMs: number,
  clock: Clock = realClock,
  commandExit?: Promise<CommandExit>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      if (error === undefined) resolve();
      else reject(error);
    };
    const timer = clock.setTimeout(
      () => finish(new Error(`nothing listened on port ${port} within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    const attempt = () => {
      if (done) return;
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        finish();
      });
      socket.once('error', () => {
        socket.destroy();
        if (!done) clock.setTimeout(attempt, 50);
      });
    };
    attempt();
    void commandExit?.then(({ code, signal }) =>
      finish(
        new Error(
          `the command exited (${signal ?? `code ${code}`}) before it listened on port ${port} (its output is above)`,
        ),
      ),
    );
  });
}
