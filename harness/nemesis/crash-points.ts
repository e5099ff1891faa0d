// The pipeline-side fault at a logical point (fault-points.ts): "the pipeline crashes after the completion commit
// and before the ACK" — of image N of device D, of any image of device D, or of the first image completed. It acts
// at the pipeline's own seam between the two (PipelineOptions.afterCompletionCommit), so it strikes at that moment
// exactly in both worlds: the image is complete in the database and its ACK_OK was never published; the restarted
// pipeline owes it (image_acks_owed). Image N is the device's capture N (captureSeq N-1, as device-points.ts counts
// them), named as the history's device_captured event gives it. A point that never struck is recorded missed when
// the faults stop, so E1 says unknown rather than pass.
import { followCaptureNames } from './capture-names.ts';
import type { History } from '../history/history.ts';
import type { CommittedImage } from '../pipeline/options.ts';
import { formatFaultPoint, type CrashBeforeAckPoint, type FaultPoint } from './fault-points.ts';

export interface CrashPointDeps {
  readonly history: History;
  /** The MAC of device `index` (1-based, as the fleet numbers its devices), undefined past the fleet's end. */
  readonly macOf: (index: number) => string | undefined;
  /** The crash and restart of every pipeline instance (PipelineSet.crashAndRestart). */
  readonly crashAndRestart: () => Promise<void>;
}

export interface CrashPoints {
  /** For PipelineOptions.afterCompletionCommit: crashes the pipeline when a waiting point matches. */
  readonly afterCommit: (committed: CommittedImage) => Promise<void>;
  /** The safety phase is over: every point still waiting is missed. */
  readonly stop: () => void;
}

export function isCrashPoint(point: FaultPoint): point is CrashBeforeAckPoint {
  return point.kind === 'crash-before-ack';
}

/** Whether this commit is the point's moment: its device (any when unnamed) and its capture (any when unnamed). Pure. */
export function crashPointDue(
  point: CrashBeforeAckPoint,
  committed: CommittedImage,
  deviceMac: string | undefined,
  captureName: string | undefined,
): boolean {
  if (point.device !== undefined && committed.mac !== deviceMac) return false;
  if (point.image !== undefined && committed.imageName !== captureName) return false;
  return true;
}

/** Records the plan's crash points (`point_planned`) and returns the hook that strikes them; none: undefined. */
export function planCrashPoints(points: readonly FaultPoint[], deps: CrashPointDeps): CrashPoints | undefined {
  const waiting = points.filter(isCrashPoint);
  if (waiting.length === 0) return undefined;
  const { history } = deps;
  for (const point of waiting) history.append({ type: 'point_planned', point: formatFaultPoint(point) });
  const captures = followCaptureNames(history);
  let stopped = false;
  return {
    afterCommit: async (committed) => {
      if (stopped) return;
      const point = waiting.find((p) => {
        const mac = p.device === undefined ? undefined : deps.macOf(p.device);
        const name = p.image === undefined || mac === undefined ? undefined : captures.nameOf(mac, p.image - 1);
        return crashPointDue(p, committed, mac, name);
      });
      if (point === undefined) return;
      waiting.splice(waiting.indexOf(point), 1);
      const text = formatFaultPoint(point);
      history.append({ type: 'point_struck', point: text, target: committed.mac });
      history.append({ type: 'nemesis', fault: 'pipeline_restart', target: 'pipeline', detail: text });
      await deps.crashAndRestart();
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      for (const point of waiting.splice(0))
        history.append({
          type: 'point_missed',
          point: formatFaultPoint(point),
          detail: 'no such image was completed during the safety phase',
        });
    },
  };
}
