// What a run is doing or waiting for, in one line for the progress display: a long pause must say why (a pipeline
// restarting, devices waiting out their ACK timeout), not show "0 chunks/s" with no hint. Pure: the display keeps
// when it last saw the stored count change and passes it in.
import type { RunProgress } from '../run/live-run.ts';

const injectingText: Readonly<Record<string, string>> = {
  pipeline_restart: 'pipeline restarting',
  broker_restart: 'broker restarting',
  kill_db_connections: "killing the pipeline's database connections",
  migration: 'applying the cleanup + resume migrations',
  operator_reinsert: 'operator re-inserting rows',
};

/** A pause in storing shorter than this is ordinary (batches, wakes): nothing to explain. */
export const stallShownAfterMs = 1_000;

export function describeActivity(p: RunProgress, storedUnchangedForMs: number): string {
  if (p.injecting) return `${injectingText[p.injecting.fault] ?? p.injecting.fault} (fault at ${p.injecting.trigger})`;
  const heal = p.phase === 'heal' ? 'heal phase (faults off, clean wakes)' : '';
  if (p.phase !== 'done' && p.fleet.devicesAwake > 0 && storedUnchangedForMs >= stallShownAfterMs) {
    const seconds = Math.floor(storedUnchangedForMs / 1000);
    const wait =
      `${p.fleet.devicesAwake} devices awake, nothing stored for ${seconds} s: ` +
      `devices waiting out the ${p.ackTimeoutMs / 1000} s ACK timeout before re-sending`;
    return heal ? `${heal}; ${wait}` : wait;
  }
  return heal;
}

/** The bars' totals: every device, every image captured, every chunk of them (a re-sent chunk counts once). */
export function barTotals(p: RunProgress): { readonly images: number; readonly chunks: number } {
  return { images: p.fleet.captured, chunks: p.fleet.chunksCaptured };
}
