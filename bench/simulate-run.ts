// camfleet end to end (`npm run bench`, part 3): `simulate --json` as a user runs it, a process of its own, timed
// from spawn to exit (start-up, the embedded servers, the fleet, the quiet period and the checker included).
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('../', import.meta.url).pathname;

export interface SimulateRun {
  readonly wallS: number;
  readonly verdict: string;
  readonly chunksStored: number;
  readonly chunksSent: number;
  readonly chunksResent: number;
  readonly peakRssMiB: number;
  readonly exitCode: number | null;
}

interface Summary {
  readonly verdict: string;
  readonly fleet: { readonly chunksSent: number; readonly chunksResent: number };
  readonly pipeline: { readonly chunksStored: number };
  readonly peakRssBytes: number;
}

export async function runSimulate(args: readonly string[]): Promise<SimulateRun> {
  const startedMs = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'harness/cli/simulate.ts'), ...args, '--json'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const wallS = (performance.now() - startedMs) / 1000;
  let summary: Summary;
  try {
    summary = JSON.parse(stdout) as Summary;
  } catch {
    throw new Error(
      `simulate ${args.join(' ')} printed no summary (exit ${exitCode}): ${stderr.trim().split('\n').slice(-3).join(' / ')}`,
    );
  }
  return {
    wallS,
    verdict: summary.verdict,
    chunksStored: summary.pipeline.chunksStored,
    chunksSent: summary.fleet.chunksSent,
    chunksResent: summary.fleet.chunksResent,
    peakRssMiB: summary.peakRssBytes / 2 ** 20,
    exitCode,
  };
}
