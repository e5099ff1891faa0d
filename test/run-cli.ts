// Runs one of camfleet's CLIs as a user does (a real process through tsx) and collects its output.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('../', import.meta.url).pathname;
const tsx = join(root, 'node_modules', '.bin', 'tsx');

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface CliProcess {
  readonly child: ChildProcess;
  /** Resolves once stdout has printed a line matching `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  readonly done: Promise<CliRun>;
}

/** `env` values of undefined remove the variable (so a test can run without the caller's DATABASE_URL). */
export function startCli(
  script: string,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): CliProcess {
  const started = Date.now();
  const merged: Record<string, string | undefined> = {
    ...process.env,
    DATABASE_URL: undefined,
    MQTT_URL: undefined,
    ...env,
  };
  const child = spawn(tsx, [join(root, 'harness/cli', script), ...args], {
    cwd: root,
    env: merged,
  });
  let stdout = '';
  let stderr = '';
  const watchers: (() => void)[] = [];
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const w of watchers) w();
  });
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliRun>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })),
  );
  return {
    child,
    done,
    waitForOutput: (pattern, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no output matching ${String(pattern)}; got:\n${stdout}\n${stderr}`)),
          timeoutMs,
        );
        const check = () => {
          if (pattern.test(stdout)) {
            clearTimeout(timer);
            resolve();
          }
        };
        watchers.push(check);
        check();
      }),
  };
}

export function runCli(
  script: string,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<CliRun> {
  return startCli(script, args, env).done;
}
