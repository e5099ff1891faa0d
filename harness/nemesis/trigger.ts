// When a scheduled fault fires (ARCHITECTURE.md §4). A wall-clock time misses on a fast or a loaded machine (the
// fleet may be done, or not started, at 1,500 ms), so server, broker, database and migration faults fire by the
// fleet's progress instead: a share of the fleet's expected chunks stored, or a number of transfers in flight.
// `atMs` stays for reproducing a report that used it; the catalogue and the mixes use progress triggers.
// Pure: the run's adapter samples the progress and asks `triggerDue`.

export type FaultTrigger =
  /** A share (0 < p < 1) of the fleet's expected chunks stored. */
  | { readonly kind: 'progress'; readonly fraction: number }
  /** At least this many transfers in flight (announced by their device, not yet acknowledged). */
  | { readonly kind: 'in_flight'; readonly transfers: number }
  /** At least this many images receiving in the database with durable progress (received_chunks > 0): a crash then
   *  surely interrupts transfers whose stored progress a resume must keep (I4). */
  | { readonly kind: 'receiving'; readonly rows: number }
  /** Wall-clock ms after the fleet starts: depends on the machine's speed. */
  | { readonly kind: 'time'; readonly ms: number };

/** What the run knows of its progress when it asks whether a trigger is due. */
export interface RunProgressSample {
  readonly elapsedMs: number;
  readonly chunksStored: number;
  /** devices × images × chunks of a mean-sized image. */
  readonly chunksExpected: number;
  readonly transfersInFlight: number;
  /** device_images rows receiving with received_chunks > 0 (sampled from the database while a trigger needs it). */
  readonly rowsReceiving: number;
}

export function triggerDue(trigger: FaultTrigger, sample: RunProgressSample): boolean {
  switch (trigger.kind) {
    case 'progress':
      return sample.chunksExpected > 0 && sample.chunksStored >= trigger.fraction * sample.chunksExpected;
    case 'in_flight':
      return sample.transfersInFlight >= trigger.transfers;
    case 'receiving':
      return sample.rowsReceiving >= trigger.rows;
    case 'time':
      return sample.elapsedMs >= trigger.ms;
  }
}

const PERCENT = /^(\d+(?:\.\d+)?)%$/;
const IN_FLIGHT = /^(\d+)-in-flight$/;
const RECEIVING = /^(\d+)-receiving$/;
const MILLIS = /^(\d+)(ms)?$/;

/** The syntax every flag and scenario file uses, for error messages. */
export const triggerSyntax =
  '"40%" (of the expected chunks stored), "3-in-flight" (transfers), "5-receiving" (rows with stored progress) or "1500ms"';

/** `40%`, `3-in-flight`, `1500ms` (a bare number is ms, as the older `…-at-ms` flags took). Throws on anything else. */
export function parseTrigger(text: string | number): FaultTrigger {
  const s = String(text).trim();
  const percent = PERCENT.exec(s);
  if (percent) {
    const value = Number(percent[1]);
    if (value > 0 && value < 100) return { kind: 'progress', fraction: value / 100 };
    throw new Error(`a progress trigger must be between 0% and 100% (exclusive), got ${s}`);
  }
  const inFlight = IN_FLIGHT.exec(s);
  if (inFlight) {
    const transfers = Number(inFlight[1]);
    if (transfers >= 1) return { kind: 'in_flight', transfers };
    throw new Error(`an in-flight trigger needs at least 1 transfer, got ${s}`);
  }
  const receiving = RECEIVING.exec(s);
  if (receiving) {
    const rows = Number(receiving[1]);
    if (rows >= 1) return { kind: 'receiving', rows };
    throw new Error(`a receiving trigger needs at least 1 row, got ${s}`);
  }
  const ms = MILLIS.exec(s);
  if (ms && Number(ms[1]) <= 3_600_000) return { kind: 'time', ms: Number(ms[1]) };
  throw new Error(`not a fault trigger: ${JSON.stringify(text)} (use ${triggerSyntax})`);
}

export function formatTrigger(trigger: FaultTrigger): string {
  switch (trigger.kind) {
    case 'progress':
      return `${Math.round(trigger.fraction * 1000) / 10}%`;
    case 'in_flight':
      return `${trigger.transfers}-in-flight`;
    case 'receiving':
      return `${trigger.rows}-receiving`;
    case 'time':
      return `${trigger.ms}ms`;
  }
}

/** What a trigger saw when it fired (or when the fleet ended without it firing), for the history. */
export function describeSample(sample: RunProgressSample): string {
  const percent = sample.chunksExpected > 0 ? Math.floor((100 * sample.chunksStored) / sample.chunksExpected) : 0;
  return (
    `${sample.chunksStored}/${sample.chunksExpected} expected chunks stored (${percent}%), ` +
    `${sample.transfersInFlight} transfers in flight, ${sample.rowsReceiving} rows receiving, ${sample.elapsedMs} ms into the fleet`
  );
}
