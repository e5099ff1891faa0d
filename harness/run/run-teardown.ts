// A run's teardown, whatever happened (it runs in live-run.ts's finally): what the run opened is stopped in the
// reverse order of its dependencies — the drive first, timers, the fleet, the pipelines, the cleanups (slow links,
// an external service), the broker, the database — each failure swallowed so the rest still closes.
import type { PeakRss } from './peak-rss.ts';
import { keepsDatabase, type RunContext, type RunResources } from './run-context.ts';

export async function tearDownRun(run: RunContext, resources: RunResources, rss: PeakRss): Promise<void> {
  const { clock, drive } = run;
  // First: after it, callers at a driven world's gate get an error instead of waiting for a scheduler.
  await drive?.close().catch(() => {});
  rss.stop();
  if (resources.progressTimer) clearInterval(resources.progressTimer);
  if (resources.budgetTimer) clearTimeout(resources.budgetTimer);
  for (const t of resources.timers) clock.clearTimeout(t);
  await resources.fleet?.shutdown().catch(() => {});
  // With a drive, the pipelines were stopped while it ran; one still up here (the run failed) is crashed.
  await (drive === undefined ? resources.pipelines?.stop() : resources.pipelines?.crash())?.catch(() => {});
  for (const cleanup of resources.cleanups.reverse()) await cleanup().catch(() => {});
  await resources.broker?.stop().catch(() => {});
  const keep = keepsDatabase(run.options, run.external, resources.db);
  await resources.db?.close({ keep }).catch(() => {});
  await run.history.close();
}
