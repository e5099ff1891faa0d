// E1 exercised: did the run do what it was for? A scenario names what it must exercise ("pipeline_restart_mid_transfer",
// "resume_after_restart", …) and every fault the plan scheduled by a trigger must have fired. Both are read off the
// history alone. A run that did not exercise what it names proves nothing about it: the verdict is `unknown`, never
// `pass` and never `fail` (nothing was violated), so a scenario that misses its point cannot pass on a fast machine.
import type { HistoryEvent } from '../history/events.ts';
import { InFlightTransfers } from './in-flight.ts';
import { passed, unknown, type InvariantVerdict } from './verdict.ts';

/** What a scenario can require; each is a fact of the history (see `exerciseChecks`). */
export const exerciseNames = [
  'pipeline_restart_mid_transfer',
  'broker_restart_mid_transfer',
  'db_connections_killed_mid_transfer',
  'migration_mid_transfer',
  'resume_after_restart',
  'device_reboot_mid_transfer',
  'torn_write',
  'counter_reset',
  'name_reuse',
  'double_send',
  'interleaved_send',
  'duplicate_metadata',
  'duplicate_logged',
  'wifi_outage',
  'bad_clock',
  'dialect_drift',
  'message_dropped',
  'message_duplicated',
  'message_reordered',
  'message_delayed',
  'session_disconnected',
  'missing_chunks_requested',
  'corrupt_message',
  'slow_database',
  'rogue_device',
  // The webhook forwarder (harness/forwarder/): legacy-two-writers' race through the user's handler (the service read
  // before the handler was called and wrote after it answered), and the forwarder's own faults.
  'webhook_race',
  'webhook_timeout',
  'webhook_5xx',
  'webhook_duplicate',
] as const;
export type ExerciseName = (typeof exerciseNames)[number];

type Event<T extends HistoryEvent['type']> = Extract<HistoryEvent, { type: T }>;

/** Server-side faults at the moment they struck, with the transfers in flight then. */
interface Strike {
  readonly fault: string;
  readonly seq: number;
  /** `mac|sha256` of each transfer in flight, with its wire name. */
  readonly inFlight: readonly string[];
  readonly names: ReadonlyMap<string, string>;
}

function strikes(events: readonly HistoryEvent[]): Strike[] {
  const tracker = new InFlightTransfers();
  const out: Strike[] = [];
  const names = new Map<string, string>();
  for (const e of events) {
    tracker.apply(e);
    if (e.type === 'device_sent_metadata') names.set(`${e.mac}|${e.sha256}`, e.imageName);
    // A mid-run migration is recorded twice (start, done); it strikes when it starts.
    // The forwarder's faults strike no transfer (and may be one per message): not strikes.
    if (e.type === 'nemesis' && e.fault.startsWith('webhook_')) continue;
    if (e.type === 'nemesis' && !(e.fault === 'migration' && e.detail?.startsWith('done')))
      out.push({ fault: e.fault, seq: e.seq, inFlight: tracker.keys(), names: new Map(names) });
  }
  return out;
}

/** How many times the history shows the exercise; 0 means not exercised. */
function count(name: ExerciseName, events: readonly HistoryEvent[], struck: readonly Strike[]): number {
  const midTransfer = (fault: string) => struck.filter((s) => s.fault === fault && s.inFlight.length > 0).length;
  const nemesis = (fault: string) => events.filter((e) => e.type === 'nemesis' && e.fault === fault).length;
  const ofType = (type: HistoryEvent['type']) => events.filter((e) => e.type === type).length;
  switch (name) {
    case 'pipeline_restart_mid_transfer':
      return midTransfer('pipeline_restart');
    case 'broker_restart_mid_transfer':
      return midTransfer('broker_restart');
    case 'db_connections_killed_mid_transfer':
      return midTransfer('kill_db_connections');
    case 'migration_mid_transfer':
      return midTransfer('migration');
    case 'resume_after_restart':
      return resumesAfterRestart(events, struck);
    case 'device_reboot_mid_transfer':
      return nemesis('reboot'); // the reboot fault strikes after a chunk of the transfer in progress
    case 'torn_write':
    case 'counter_reset':
    case 'double_send':
    case 'interleaved_send':
    case 'duplicate_metadata':
    case 'wifi_outage':
    case 'bad_clock':
    case 'dialect_drift':
    case 'corrupt_message':
    case 'slow_database':
    case 'rogue_device':
      return nemesis(name);
    case 'message_dropped':
      return nemesis('drop');
    case 'message_duplicated':
      return nemesis('duplicate');
    case 'message_reordered':
      return nemesis('reorder');
    case 'message_delayed':
      return nemesis('delay');
    case 'session_disconnected':
      return nemesis('disconnect');
    case 'webhook_race':
    case 'webhook_5xx':
    case 'webhook_duplicate':
      return nemesis(name);
    case 'webhook_timeout': {
      // An attempt the forwarder gave up waiting for (a slow request or answer, a slow handler): its retry is a
      // repeated delivery running beside it. Counted when that delivery went through in the end (a handler that
      // never answers, or refuses, exercised nothing).
      const delivered = new Set<number>();
      for (const e of events) if (e.type === 'webhook_delivery' && e.next === 'delivered') delivered.add(e.delivery);
      return events.filter((e) => e.type === 'webhook_delivery' && e.outcome === 'timeout' && delivered.has(e.delivery))
        .length;
    }
    case 'name_reuse':
      return ofType('pipeline_name_reused');
    case 'duplicate_logged':
      return ofType('pipeline_duplicate_logged');
    case 'missing_chunks_requested':
      return ofType('pipeline_missing_requested');
  }
}

/**
 * Captures in flight when the pipeline or the broker restarted whose transfer was taken up again afterwards: their
 * device announced them again (a resume from the metadata), the pipeline asked for their missing chunks, or a
 * pipeline instance that is not the crashed one committed them (a takeover from the durable chunk store; a crashed
 * instance records nothing).
 */
function resumesAfterRestart(events: readonly HistoryEvent[], struck: readonly Strike[]): number {
  const resumed = new Set<string>();
  for (const s of struck) {
    if (s.fault !== 'pipeline_restart' && s.fault !== 'broker_restart') continue;
    const waiting = new Set(s.inFlight);
    const byName = new Map(s.inFlight.map((key) => [`${key.split('|')[0]}|${s.names.get(key)}`, key]));
    for (const e of events) {
      if (e.seq <= s.seq) continue;
      if (e.type === 'device_sent_metadata' && waiting.has(`${e.mac}|${e.sha256}`)) resumed.add(`${e.mac}|${e.sha256}`);
      if (
        e.type === 'pipeline_missing_requested' ||
        (e.type === 'pipeline_committed' && s.fault === 'pipeline_restart')
      ) {
        const key = byName.get(`${e.mac}|${e.imageName}`);
        if (key !== undefined) resumed.add(key);
      }
    }
  }
  return resumed.size;
}

/** E1: every planned fault fired and every named exercise happened. */
export function checkExercised(events: readonly HistoryEvent[], required: readonly ExerciseName[]): InvariantVerdict {
  const planned = events.filter((e): e is Event<'fault_planned'> => e.type === 'fault_planned');
  const fired = new Set(events.filter((e): e is Event<'fault_fired'> => e.type === 'fault_fired').map((e) => e.planId));
  const missed = new Map(
    events.filter((e): e is Event<'fault_missed'> => e.type === 'fault_missed').map((e) => [e.planId, e.detail]),
  );
  const struck = strikes(events);
  const problems: string[] = [];
  for (const p of planned)
    if (!fired.has(p.planId))
      problems.push(
        `${p.fault} at ${p.trigger} never fired${missed.has(p.planId) ? ` (${missed.get(p.planId)})` : ''}`,
      );
  const points = pointOutcomes(events);
  problems.push(...points.problems);
  const seen: string[] = [];
  for (const name of required) {
    const n = count(name, events, struck);
    if (n === 0) problems.push(`${name} did not happen`);
    else seen.push(`${name} ×${n}`);
  }
  if (problems.length > 0) return unknown('E1', `the run did not exercise what it names: ${problems.join('; ')}`);
  const firedText = planned.length === 0 ? '' : `${planned.length} planned faults fired`;
  const pointsText = points.struck === 0 ? '' : `${points.struck} fault points struck`;
  return passed(
    'E1',
    [firedText, pointsText, seen.join(', ')].filter((s) => s !== '').join('; ') || 'nothing to exercise',
  );
}

/** Faults at logical points: each planned one must have struck (a point that never did proves nothing). */
function pointOutcomes(events: readonly HistoryEvent[]): { struck: number; problems: string[] } {
  const struck = new Set<string>();
  const missed = new Map<string, string>();
  for (const e of events) {
    if (e.type === 'point_struck') struck.add(e.point);
    if (e.type === 'point_missed') missed.set(e.point, e.detail);
  }
  const problems: string[] = [];
  for (const e of events)
    if (e.type === 'point_planned' && !struck.has(e.point)) {
      const why = missed.get(e.point);
      problems.push(`fault point ${e.point} never struck${why === undefined ? '' : ` (${why})`}`);
    }
  return { struck: struck.size, problems };
}

/** Whether E1 has anything to judge in this run (a planned fault or point, or a named exercise). */
export function hasExercises(events: readonly HistoryEvent[], required: readonly ExerciseName[]): boolean {
  return required.length > 0 || events.some((e) => e.type === 'fault_planned' || e.type === 'point_planned');
}
