// The pipeline instances of a run, as the nemesis sees them: one (or two, for the "two instances" fault), crashed
// and restarted at will, switched to another profile after a mid-run migration. Statistics add up over every
// instance the run ever started, so a restart does not reset the summary.
import type { Pipeline, PipelineProfile, PipelineStats } from '../pipeline/index.ts';
import type { Clock } from '../world/clock.ts';
import { realClock } from '../world/live/real-clock.ts';
import { emptyStats } from '../pipeline/stats.ts';

export type StartPipeline = (profile: PipelineProfile, instanceTag: string) => Promise<Pipeline>;

export { emptyStats as emptyPipelineStats };

export function addPipelineStats(a: PipelineStats, b: PipelineStats): PipelineStats {
  const sum = { ...a } as Record<string, unknown>;
  for (const [key, value] of Object.entries(b)) {
    if (typeof value === 'number') sum[key] = ((a as unknown as Record<string, number>)[key] ?? 0) + value;
  }
  const rejections: Record<string, number> = { ...a.rejections };
  for (const [code, n] of Object.entries(b.rejections)) rejections[code] = (rejections[code] ?? 0) + n;
  return { ...(sum as unknown as PipelineStats), rejections };
}

/** A failed restart is tried again after this long (at least), at most RESTART_ATTEMPTS_MAX times in all. */
export const RESTART_RETRY_MS = 500;
export const RESTART_ATTEMPTS_MAX = 20;

export class PipelineSet {
  private instances: { pipeline: Pipeline; tag: string }[] = [];
  /** Instances crashed or stopped: their counts are read when asked, not when they went — a crash does not stop a
   *  commit already on its way to Postgres, and the image it completes still counts. */
  private readonly retired: Pipeline[] = [];
  private generation = 0;

  /**
   * `restart`: how long a crashed pipeline stays down before its new instance starts, on `clock`. Live, a restart
   * takes what it takes on this machine (no extra wait); a sim world's is instant unless modelled (sim-drive.ts).
   */
  constructor(
    private readonly startOne: StartPipeline,
    private profile: PipelineProfile,
    private readonly count: number,
    private readonly restart: { readonly downMs: number; readonly clock: Clock } | undefined = undefined,
  ) {}

  get currentProfile(): PipelineProfile {
    return this.profile;
  }

  async start(): Promise<void> {
    this.generation += 1;
    for (let i = 0; i < this.count; i++) {
      const tag = `${this.generation}${this.count > 1 ? String.fromCharCode(97 + i) : ''}`;
      this.instances.push({ pipeline: await this.startOne(this.profile, tag), tag });
    }
  }

  /**
   * A crash (no drain: in-memory state is lost) and a fresh start, as a server restart mid-transfer. A start that
   * fails (the broker is restarting too, so the new instance cannot connect) is tried again after a wait, as a
   * supervisor (systemd, Kubernetes) restarts a service whose start failed; found by explore: a crash while the
   * broker was down left the fleet with no pipeline for the rest of the run.
   */
  async crashAndRestart(): Promise<void> {
    await this.retire((p) => p.crash());
    const clock = this.restart?.clock ?? realClock;
    for (let attempt = 1; ; attempt++) {
      const downMs =
        attempt === 1 ? (this.restart?.downMs ?? 0) : Math.max(this.restart?.downMs ?? 0, RESTART_RETRY_MS);
      if (downMs > 0) await clock.sleep(downMs);
      try {
        await this.start();
        return;
      } catch (error) {
        await this.retire((p) => p.crash()); // an instance of two may have started
        if (attempt >= RESTART_ATTEMPTS_MAX) throw error;
      }
    }
  }

  /** A graceful stop (drain) and a start with another profile: the deploy after a mid-run migration. */
  async switchProfile(profile: PipelineProfile): Promise<void> {
    await this.retire((p) => p.stop());
    this.profile = profile;
    await this.start();
  }

  stats(): PipelineStats {
    const all = [...this.retired, ...this.instances.map(({ pipeline }) => pipeline)];
    return all.reduce((sum, pipeline) => addPipelineStats(sum, pipeline.stats()), emptyStats());
  }

  /** Some instance is behind (Pipeline.behind): the run's fleet holds new wakes. */
  behind(): boolean {
    return this.instances.some(({ pipeline }) => pipeline.behind());
  }

  async idle(): Promise<void> {
    await Promise.all(this.instances.map(({ pipeline }) => pipeline.idle()));
  }

  async stop(): Promise<void> {
    await this.retire((p) => p.stop());
  }

  /** Every instance crashed, none restarted: a teardown that must not wait on the world (a sim run's, once its
   *  scheduler has stopped: a graceful stop would wait on virtual time that no longer moves). */
  async crash(): Promise<void> {
    await this.retire((p) => p.crash());
  }

  private async retire(how: (p: Pipeline) => Promise<void>): Promise<void> {
    const old = this.instances;
    this.instances = [];
    for (const { pipeline } of old) {
      this.retired.push(pipeline); // counted all along, also while it stops
      await how(pipeline).catch(() => {});
    }
  }
}
