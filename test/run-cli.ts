// Runs one of camfleet's CLIs as a user does (a real process through tsx, or `npm run` itself) and collects its
// output.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('../', import.meta.url).pathname;
const tsx = join(root, 'node_modules', '.bin', 'tsx');

export interface CliRun {
  readonly code: number | null;
  /** The signal that ended the process, when one did (then `code` is null). */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface CliProcess {
  readonly child: ChildProcess;
  /** Resolves once stdout (or stderr) has printed a line matching `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number, stream?: 'stdout' | 'stderr'): Promise<void>;
  readonly done: Promise<CliRun>;
}

/** `env` values of undefined remove the variable (so a test can run without the caller's DATABASE_URL). */
export function startCli(
  script: string,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): CliProcess {
  return watch(spawn(tsx, [join(root, 'harness/cli', script), ...args], { cwd: root, env: cliEnv(env) }));
}

/**
 * `npm run <script> -- <args>` exactly as the README writes it, in a process group of its own (`detached`), like a
 * terminal's foreground job: `process.kill(-child.pid, 'SIGINT')` is then what Ctrl-C does.
 */
export function startNpmScript(
  script: string,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): CliProcess {
  return watch(spawn('npm', ['run', script, '--', ...args], { cwd: root, env: cliEnv(env), detached: true }));
}

function cliEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return { ...process.env, DATABASE_URL: undefined, MQTT_URL: undefined, ...env };
}

function watch(child: ChildProcess): CliProcess {
  const started = Date.now();
  let stdout = '';
  let stderr = '';
  const watchers: (() => void)[] = [];
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const w of watchers) w();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const w of watchers) w();
  });
  const done = new Promise<CliRun>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started })),
  );
  return {
    child,
    done,
    waitForOutput: (pattern, timeoutMs = 20_000, stream = 'stdout') =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no output matching ${String(pattern)}; got:\n${stdout}\n${stderr}`)),
          timeoutMs,
        );
        const check = () => {
          if (pattern.test(stream === 'stdout' ? stdout : stderr)) {
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
