// Faults at logical points (issue 8, "Faults at logical points"): not a rate drawn from the seed but one exact
// moment of the run — "device 2 reboots after 5 chunks of its image 1". A point is plain data (a kind and a few
// whole numbers), so a fault plan holding points can be generated and shrunk (issue 9: fewer points, smaller
// numbers); `formatFaultPoint` / `parseFaultPoint` are its one text spelling, the same for the `--fault-at` flag,
// a scenario file's `faults.points`, the `faults:` line and the reproduce command.
//
// Devices are named by their 1-based index in the fleet (the order the fleet creates them), images by the
// device's 1-based capture index, wakes by the device's 1-based wake count: numbers the run's options bound, so
// a point is meaningful for any seed. Device points strike through the device fault filter
// (device-fault-filter.ts); a point that never struck leaves E1 `unknown` (checker/exercises.ts).

/**
 * A device reboots (power cycle: RAM lost, SD queue and flash kept) right after publishing chunk `afterChunks - 1`
 * of its capture `image` (0: right after the metadata). It is back on the network after the firmware's boot time
 * (FirmwareConfig.bootMs), while the server goes on with what it had.
 */
export interface RebootPoint {
  readonly kind: 'reboot';
  readonly device: number;
  readonly image: number;
  readonly afterChunks: number;
}
/** A device's flash counter resets to 0 just before its wake `wake` (name reuse from then on). */
export interface CounterResetPoint {
  readonly kind: 'counter-reset';
  readonly device: number;
  readonly wake: number;
}
/** The pipeline crashes after the commit that completed an image and before its ACK (that image, or the first). */
export interface CrashBeforeAckPoint {
  readonly kind: 'crash-before-ack';
  readonly device?: number;
  readonly image?: number;
}
/** The broker drops the PUBACK of one device message (a chunk, or the metadata when `chunk` is absent). */
export interface DropPubackPoint {
  readonly kind: 'drop-puback';
  readonly device: number;
  readonly image: number;
  readonly chunk?: number;
}
/** The mid-run migration, applied while `inFlight` transfers are in flight: a spelling of `--migrate-at K-in-flight`. */
export interface MigratePoint {
  readonly kind: 'migrate';
  readonly inFlight: number;
}

export type FaultPoint = RebootPoint | CounterResetPoint | CrashBeforeAckPoint | DropPubackPoint | MigratePoint;
export type FaultPointKind = FaultPoint['kind'];

interface ParamSpec {
  /** The parameter's name in the text spelling. */
  readonly name: string;
  /** The FaultPoint field it fills. */
  readonly field: string;
  readonly min: 0 | 1;
  readonly required: boolean;
}

const p = (name: string, field: string, min: 0 | 1, required = true): ParamSpec => ({ name, field, min, required });

/** Each kind: its parameters in spelling order, and one line for --help and the docs. */
const kinds: Readonly<Record<FaultPointKind, { readonly params: readonly ParamSpec[]; readonly means: string }>> = {
  reboot: {
    params: [p('device', 'device', 1), p('image', 'image', 1), p('after-chunks', 'afterChunks', 0)],
    means: 'device D reboots right after chunks 0..K-1 of its image N are out (K=0: right after the metadata)',
  },
  'counter-reset': {
    params: [p('device', 'device', 1), p('wake', 'wake', 1)],
    means: "device D's flash counter resets to 0 just before its wake W",
  },
  'crash-before-ack': {
    params: [p('device', 'device', 1, false), p('image', 'image', 1, false)],
    means: 'the pipeline crashes after the completion commit and before the ACK (of that image, else the first)',
  },
  'drop-puback': {
    params: [p('device', 'device', 1), p('image', 'image', 1), p('chunk', 'chunk', 0, false)],
    means: 'the broker drops the PUBACK of chunk C (or the metadata) of image N of device D',
  },
  migrate: {
    params: [p('in-flight', 'inFlight', 1)],
    means: 'the mid-run migration is applied while K transfers are in flight (= --migrate-at K-in-flight)',
  },
};

export const faultPointKinds = Object.keys(kinds) as readonly FaultPointKind[];

/** The syntax in one line, for error messages. */
export const faultPointSyntax =
  'reboot:device=D,image=N,after-chunks=K | counter-reset:device=D,wake=W | migrate:in-flight=K | ' +
  'crash-before-ack[:device=D,image=N] | drop-puback:device=D,image=N[,chunk=C]';

/** One line per kind, for --help and the READMEs. */
export const faultPointHelp: readonly string[] = faultPointKinds.map(
  (kind) => `${kind}:${kinds[kind].params.map((x) => `${x.name}=…`).join(',')} — ${kinds[kind].means}`,
);

/** The point in its one text spelling (parameters in their declared order, absent optional ones left out). */
export function formatFaultPoint(point: FaultPoint): string {
  const fields = point as unknown as Record<string, number | undefined>;
  const parts = kinds[point.kind].params.flatMap((x) =>
    fields[x.field] === undefined ? [] : [`${x.name}=${fields[x.field]}`],
  );
  return parts.length === 0 ? point.kind : `${point.kind}:${parts.join(',')}`;
}

/** Reads one point; throws an Error whose message names what is wrong (the caller adds where it came from). */
export function parseFaultPoint(text: string): FaultPoint {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  const kindText = colon < 0 ? trimmed : trimmed.slice(0, colon);
  if (!(faultPointKinds as readonly string[]).includes(kindText))
    throw new Error(`unknown fault point kind ${JSON.stringify(kindText)} (kinds: ${faultPointKinds.join(', ')})`);
  const kind = kindText as FaultPointKind;
  const specs = kinds[kind].params;
  const fields: Record<string, number> = {};
  const body = colon < 0 ? '' : trimmed.slice(colon + 1);
  for (const pair of body === '' ? [] : body.split(',')) {
    const eq = pair.indexOf('=');
    const name = (eq < 0 ? pair : pair.slice(0, eq)).trim();
    const spec = specs.find((x) => x.name === name);
    if (spec === undefined)
      throw new Error(`${kind}: unknown parameter ${JSON.stringify(name)} (parameters: ${paramNames(kind)})`);
    if (fields[spec.field] !== undefined) throw new Error(`${kind}: ${name} given twice`);
    const valueText = eq < 0 ? '' : pair.slice(eq + 1).trim();
    const value = /^\d+$/.test(valueText) ? Number(valueText) : NaN;
    if (!Number.isSafeInteger(value) || value < spec.min)
      throw new Error(`${kind}: ${name} must be a whole number ≥ ${spec.min}, got ${JSON.stringify(valueText)}`);
    fields[spec.field] = value;
  }
  for (const spec of specs)
    if (spec.required && fields[spec.field] === undefined) throw new Error(`${kind}: ${spec.name}= is missing`);
  return { kind, ...fields } as FaultPoint;
}

function paramNames(kind: FaultPointKind): string {
  const params = kinds[kind].params;
  return params.length === 0 ? 'none' : params.map((x) => x.name).join(', ');
}

/** Whether `value` is a well-formed point (a bundle's plan read back from JSON). */
export function isFaultPoint(value: unknown): value is FaultPoint {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  if (!(faultPointKinds as readonly unknown[]).includes(record.kind)) return false;
  const specs = kinds[record.kind as FaultPointKind].params;
  for (const key of Object.keys(record)) if (key !== 'kind' && !specs.some((x) => x.field === key)) return false;
  return specs.every((x) => {
    const v = record[x.field];
    if (v === undefined) return !x.required;
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= x.min;
  });
}

/**
 * The points this run cannot strike, with what they need: refused before the run starts (exit 2). drop-puback
 * needs a broker whose PUBACKs camfleet writes (`pubacksOurs`): the sim router or the embedded aedes broker.
 */
export function unsupportedPointProblem(points: readonly FaultPoint[], pubacksOurs = true): string | undefined {
  for (const point of points) {
    if (point.kind === 'drop-puback' && !pubacksOurs)
      return `fault point ${formatFaultPoint(point)}: needs the embedded broker or --mode sim (a broker at a URL writes its own PUBACKs: camfleet cannot drop one there)`;
  }
  return undefined;
}

/** What the run's options make certain about a point, for validation before anything starts. */
export interface PointBounds {
  readonly devices: number;
  readonly imagesPerDevice: number;
}

/** Why this point can never strike in a run of these bounds (a device or image the fleet never has), or undefined. */
export function pointBoundsProblem(point: FaultPoint, bounds: PointBounds): string | undefined {
  const f = point as unknown as Record<string, number | undefined>;
  const device = f.device;
  const image = f.image;
  if (device !== undefined && device > bounds.devices)
    return `device ${device} of a ${bounds.devices}-device fleet (devices are numbered 1..${bounds.devices})`;
  if (image !== undefined && image > bounds.imagesPerDevice)
    return `image ${image}, but each device captures ${bounds.imagesPerDevice} (images are numbered 1..${bounds.imagesPerDevice})`;
  return undefined;
}

/**
 * Problems with a list of points as a whole: a point given twice, more than one migration (a `migrate` point and
 * another one, or a `migrate` point beside a plan that already migrates). The first one, or undefined.
 */
export function pointListProblem(points: readonly FaultPoint[], migrationElsewhere: boolean): string | undefined {
  const seen = new Set<string>();
  for (const point of points) {
    const text = formatFaultPoint(point);
    if (seen.has(text)) return `fault point ${text} is given twice`;
    seen.add(text);
  }
  const migrations = points.filter((x) => x.kind === 'migrate');
  if (migrations.length > 1) return `fault points: one migrate point at most, got ${migrations.length}`;
  const first = migrations[0];
  if (first !== undefined && migrationElsewhere)
    return `fault point ${formatFaultPoint(first)}: the plan already has a migration (--migrate-at / faults.migration): give one`;
  return undefined;
}

/** The trigger a migrate point stands for (trigger.ts). */
export function migrateTrigger(point: MigratePoint): string {
  return `${point.inFlight}-in-flight`;
}
