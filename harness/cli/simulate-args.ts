// The `simulate` command line: its flags, their checks and the run options they make. Shared by the command
// (harness/cli/simulate.ts) and the library's simulate() (lib/simulate.ts), which takes the same options camelCased
// and hands them to this very parser, so both refuse the same things with the same words.
import { commandFor } from '../run/command-line.ts';
import type { Argv } from 'yargs';
import { randomSeed } from '../../simulator/random/prng.ts';
import { firmwareProfileDescriptions, firmwareProfiles } from '../../simulator/firmware/index.ts';
import { buildFaultPlan, type FaultMix } from '../nemesis/fault-plan.ts';
import { liveRunDefaults, pipelineChoices, type LiveRunOptions, type RunStage } from '../run/run-options.ts';
import { bundleRunOptions, readBundleFile, type BundleFile } from '../run/bundle.ts';
import { UsageError } from '../run/exit-codes.ts';
import { faultOverridesFrom, faultYargsOptions } from './fault-options.ts';
import { checkWorldUrls, worldOptions } from './world-options.ts';
import { webhookOptions, webhookProblem, webhookRunOptions } from './webhook-options.ts';
import { brokerCaOf, brokerLoginOptions, brokerLoginProblem, brokerUrlWithLogin } from './broker-login.ts';
import {
  fleetThreadsOption,
  fleetThreadsProblem,
  SIMULATE_WORKERS_DEFAULT,
  workersOption,
  workersProblem,
} from './worker-options.ts';
import { shardOf, shardOptions, shardProblem, shardSeed } from './shard-options.ts';
import { flagGiven, runModes, simModeProblem, type RunMode } from './sim-mode.ts';
import { numberOption } from './number-option.ts';
import { checkBundlePath, checkCreatableDirectory, checkWritableFile } from './path-options.ts';
import { sweepProblem } from './sweep-cli.ts';
import { parseShard } from '../run/shard.ts';
import { parseSeedList, SWEEP_JOBS_DEFAULT, SWEEP_JOBS_MAX } from '../run/sweep.ts';

/** The simulate flags and their checks on `y`; `args` are the arguments it will parse (for "was this flag given"). */
export function simulateArgs(y: Argv, args: readonly string[]) {
  return (
    y
      .scriptName(commandFor('simulate'))
      .usage(
        '$0 [options]\n\nRuns simulated ESP32-CAM devices (firmware v3.5.0) that upload chunked images over MQTT to the reference\n' +
          'ingestion pipeline writing to Postgres, then proves the invariants (no duplicate rows, no lost image, resume\n' +
          'keeps progress, …). Embedded by default: aedes in this process and an embedded Postgres; each run works in a\n' +
          'fresh database that is dropped afterwards.\n\nExit codes: 0 all invariants pass, 1 an invariant is violated, 2 usage or environment error,\n' +
          '3 unknown (e.g. the time budget ran out), 4 --replay of a sim bundle did not reproduce it byte for byte.',
      )
      .options({
        devices: numberOption('devices', { default: liveRunDefaults.devices, describe: 'simulated devices' }),
        images: numberOption('images', {
          default: liveRunDefaults.imagesPerDevice,
          describe: 'images each device captures (one per wake)',
        }),
        'image-kb': numberOption('image-kb', {
          default: liveRunDefaults.imageKbMean,
          describe: 'mean image size in KiB (sizes vary ±30 %)',
        }),
        'chunk-bytes': numberOption('chunk-bytes', {
          default: liveRunDefaults.chunkBytes,
          describe: 'chunk payload size (firmware: 1024)',
        }),
        'wakes-max': numberOption('wakes-max', {
          default: liveRunDefaults.wakesMax,
          describe: 'wakes a device may use before the run gives up on it',
        }),
        seed: numberOption('seed', { describe: 'seed for every random choice (printed first; random when absent)' }),
        seeds: {
          type: 'string',
          describe:
            'with --mode sim: run every seed of A..B or 1,5,9 in this process, print each failing one with its replay command, end with "N runs, M failed, R runs/s"',
        },
        jobs: numberOption('jobs', {
          default: SWEEP_JOBS_DEFAULT,
          describe: `with --seeds: seeds run at once, each on a database of its own (1..${SWEEP_JOBS_MAX}); no run's history depends on it`,
        }),
        qos: numberOption('qos', {
          choices: [0, 1],
          default: liveRunDefaults.qos,
          describe: 'MQTT QoS of device messages (0 models QoS-0 firmware)',
        }),
        dialect: {
          type: 'string',
          choices: ['fw350', 'spec'],
          default: liveRunDefaults.dialect,
          describe: 'wire dialect the devices speak (PROTOCOL.md §2–3)',
        },
        mode: {
          type: 'string',
          choices: runModes,
          default: 'live',
          describe:
            'live: a real broker and the real clock; sim: one process, a virtual clock, the in-memory router and a gated database, moved by the seeded scheduler (same seed, same history); every fault live takes but a slow subscriber on a real broker',
        },
        ...worldOptions,
        ...brokerLoginOptions,
        ...webhookOptions,
        ...workersOption(SIMULATE_WORKERS_DEFAULT),
        ...fleetThreadsOption,
        ...shardOptions,
        'time-scale': numberOption('time-scale', {
          default: liveRunDefaults.timeScale,
          describe: 'virtual ms of deep sleep per real ms (360000: 1 h sleeps in 10 ms)',
        }),
        concurrency: numberOption('concurrency', {
          default: liveRunDefaults.concurrencyMax,
          describe: 'devices awake at once, at most',
        }),
        'ack-timeout-ms': numberOption('ack-timeout-ms', {
          default: liveRunDefaults.ackTimeoutMs,
          describe: 'firmware silence timeout before a re-send',
        }),
        'time-budget-s': numberOption('time-budget-s', {
          default: liveRunDefaults.timeBudgetMs / 1000,
          describe: 'stop and report unknown (exit 3) after this long',
        }),
        'keep-db': {
          type: 'boolean',
          default: false,
          describe: 'keep the run database on an external server (its URL is printed)',
        },
        pipeline: {
          type: 'string',
          choices: pipelineChoices,
          default: liveRunDefaults.pipeline,
          describe:
            'the system under test: the reference pipeline, one of the original bugs (legacy-*), or external (your own service)',
        },
        firmware: {
          type: 'string',
          choices: firmwareProfiles,
          default: liveRunDefaults.firmware,
          describe: `the devices' firmware: ${firmwareProfiles.map((p) => `${p} — ${firmwareProfileDescriptions[p]}`).join('; ')}`,
        },
        'ack-names-capture': {
          type: 'boolean',
          default: liveRunDefaults.ackNamesCapture,
          describe:
            'opt-in protocol option, not in v3.5.0: every ACK_OK also names the capture (its timestamp) and the devices dequeue only that capture (cures the counter-reset hazard, README)',
        },
        'external-cmd': {
          type: 'string',
          describe:
            'with --pipeline external: shell command that starts your service; it gets MQTT_URL and DATABASE_URL',
        },
        stage: {
          type: 'string',
          choices: ['base', 'cleanup', 'resume'],
          default: liveRunDefaults.stage,
          describe: 'schema stage the run database starts at (the legacy profiles ran on base)',
        },
        history: { type: 'string', describe: 'write every event of the run as NDJSON to this file' },
        report: {
          type: 'string',
          describe: 'write summary JSON and JUnit XML (one test case per invariant) into this directory',
        },
        replay: {
          type: 'string',
          describe:
            're-run a failure bundle (its seed, workload, fault plan and mode); the other workload options are ignored. A sim bundle replays in sim and is checked byte for byte: same failing invariants, schedule digest and history, or exit 4',
        },
        json: {
          type: 'boolean',
          default: false,
          describe: 'print a machine-readable summary on stdout (progress goes to stderr)',
        },
        quiet: { type: 'boolean', default: false, describe: 'no progress output' },
      })
      // Untyped on purpose: the fault flags are read back through faultOverridesFrom, which validates them.
      .options(faultYargsOptions() as Record<never, never>)
      .check((a) => {
        // drop-puback needs a broker whose PUBACKs camfleet writes: the sim router or the embedded aedes.
        const pubacksOurs = a.mode === 'sim' || !a['broker-url'];
        faultOverridesFrom(a, { devices: a.devices, imagesPerDevice: a.images }, pubacksOurs);
        // Every path and URL before anything starts: a bad one costs no server start and leaves no temp directory.
        checkWorldUrls(a, args);
        const loginTrouble = brokerLoginProblem(a, args);
        if (loginTrouble !== undefined) throw new Error(loginTrouble);
        if (a.history !== undefined) checkWritableFile('history', a.history);
        if (a.report !== undefined) checkCreatableDirectory('report', a.report);
        if (a.replay !== undefined) checkBundlePath('replay', a.replay);
        if (a['external-cmd'] !== undefined && a.pipeline !== 'external')
          throw new Error('--external-cmd goes with --pipeline external');
        const webhookTrouble = webhookProblem(a, a.mode, args);
        if (webhookTrouble !== undefined) throw new Error(webhookTrouble);
        const shardTrouble = shardProblem(a);
        if (shardTrouble !== undefined) throw new Error(shardTrouble);
        const workersTrouble = workersProblem(a.workers, a.mode === 'sim' || !a['broker-url']);
        if (workersTrouble !== undefined) throw new Error(workersTrouble);
        const threadsTrouble = fleetThreadsProblem(a['fleet-threads'], a.mode === 'sim');
        if (threadsTrouble !== undefined) throw new Error(threadsTrouble);
        const simProblem = a.mode === 'sim' ? simModeProblem(a, args) : undefined;
        if (simProblem !== undefined) throw new Error(simProblem);
        if (a.seeds !== undefined) {
          const problem = sweepProblem(a);
          if (problem !== undefined) throw new Error(problem);
          parseSeedList(a.seeds);
        }
        if (!(Number.isInteger(a.jobs) && a.jobs >= 1 && a.jobs <= SWEEP_JOBS_MAX))
          throw new Error(`--jobs must be a whole number from 1 to ${SWEEP_JOBS_MAX}, got ${a.jobs}`);
        if (a.seeds === undefined && flagGiven('jobs', args))
          throw new Error('--jobs goes with --seeds (a single run is one seed)');
        const positive: [string, number][] = [
          ['devices', a.devices],
          ['images', a.images],
          ['image-kb', a['image-kb']],
          ['chunk-bytes', a['chunk-bytes']],
          ['wakes-max', a['wakes-max']],
          ['time-scale', a['time-scale']],
          ['concurrency', a.concurrency],
          ['ack-timeout-ms', a['ack-timeout-ms']],
          ['time-budget-s', a['time-budget-s']],
        ];
        for (const [name, value] of positive)
          if (!(Number.isFinite(value) && value > 0))
            throw new Error(`--${name} must be a positive number, got ${value}`);
        for (const name of ['devices', 'images', 'chunk-bytes', 'wakes-max', 'concurrency'] as const)
          if (!Number.isInteger(a[name])) throw new Error(`--${name} must be a whole number, got ${a[name]}`);
        // A shard drives its slice; the fleet's MACs come from one 24-bit space.
        const parsedShard = a.shard === undefined ? undefined : parseShard(a.shard);
        const shardCount = typeof parsedShard === 'object' ? parsedShard.count : 1;
        if (a.devices / shardCount > 20_000)
          throw new Error(
            `--devices ${a.devices} is more than one process drives (max 20000${shardCount > 1 ? ` a shard: ${a.devices} over ${shardCount} shards` : ''}; split it with --shard)`,
          );
        if (a.devices > 1_000_000) throw new Error(`--devices ${a.devices}: a run has at most 1000000 devices`);
        if (a['chunk-bytes'] > 16_384) throw new Error(`--chunk-bytes must be at most 16384 (firmware uses 1024)`);
        if (a.seed !== undefined && !Number.isInteger(a.seed))
          throw new Error(`--seed must be a whole number, got ${a.seed}`);
        if (a.images > a['wakes-max'])
          throw new Error(`--images ${a.images} needs at least as many wakes (--wakes-max ${a['wakes-max']})`);
        return true;
      })
  );
}

export type SimulateArgv = Awaited<ReturnType<ReturnType<typeof simulateArgs>['parseAsync']>>;

/** The run options the arguments make, for a run in `mode` (sim has its own router: no broker URL). */
export function simulateRunOptions(argv: SimulateArgv, mode: RunMode): LiveRunOptions {
  const faultMix = (argv as Record<string, unknown>).faults as FaultMix;
  const shard = shardOf(argv);
  return {
    ...liveRunDefaults,
    devices: argv.devices,
    imagesPerDevice: argv.images,
    imageKbMean: argv['image-kb'],
    chunkBytes: argv['chunk-bytes'],
    wakesMax: argv['wakes-max'],
    seed: shard === undefined ? (argv.seed ?? randomSeed()) : shardSeed(shard, argv.seed),
    qos: argv.qos === 0 ? 0 : 1,
    dialect: argv.dialect === 'spec' ? 'spec' : 'fw350',
    // Sim runs its own router: MQTT_URL in the environment is for live runs (an explicit --broker-url is refused).
    brokerUrl: mode === 'sim' ? undefined : brokerUrlWithLogin(argv),
    brokerCa: mode === 'sim' ? undefined : brokerCaOf(argv),
    databaseUrl: argv['database-url'] || undefined,
    timeScale: argv['time-scale'],
    concurrencyMax: argv.concurrency,
    ackTimeoutMs: argv['ack-timeout-ms'],
    timeBudgetMs: argv['time-budget-s'] * 1000,
    keepDatabase: argv['keep-db'],
    pipeline: argv.pipeline,
    firmware: argv.firmware,
    ackNamesCapture: argv['ack-names-capture'],
    stage: argv.stage as RunStage,
    // The same plan in both worlds: sim injects every fault live does but a real broker's slow subscriber.
    faults: buildFaultPlan(faultMix, faultOverridesFrom(argv)),
    historyPath: argv.history,
    externalCommand: argv['external-cmd'],
    webhook: webhookRunOptions(argv),
    workers: argv.workers,
    fleetThreads: argv['fleet-threads'],
    shard,
  };
}

/** What a parsed command line runs: its options (a replayed bundle's, when --replay), its mode, the bundle. */
export interface ResolvedSimulate {
  readonly options: LiveRunOptions;
  readonly mode: RunMode;
  readonly replayed?: { readonly dir: string; readonly file: BundleFile };
}

/** Reads the bundle a --replay names and settles the run's mode and options; throws what is wrong (exit 2). */
export async function resolveSimulateRun(argv: SimulateArgv, args: readonly string[]): Promise<ResolvedSimulate> {
  const replayDir = argv.replay === undefined ? undefined : checkBundlePath('replay', argv.replay);
  // The bundle being replayed: its options replace the workload flags, and its mode is the run's unless --mode says.
  const file = replayDir === undefined ? undefined : await readBundleFile(replayDir);
  // A sim bundle replays in sim without `--mode sim`: only sim can give the run back byte for byte.
  const mode: RunMode = file !== undefined && !flagGiven('mode', args) ? file.mode : (argv.mode as RunMode);
  if (mode === 'sim' && argv.mode !== 'sim') {
    // The flags sim refuses were only checked for an explicit --mode sim.
    const problem = simModeProblem(argv, args);
    if (problem !== undefined) throw new UsageError(problem);
  }
  const typed = simulateRunOptions(argv, mode);
  if (file === undefined || replayDir === undefined) return { options: typed, mode };
  return {
    options: {
      ...bundleRunOptions(file, { brokerUrl: typed.brokerUrl, databaseUrl: typed.databaseUrl }),
      historyPath: typed.historyPath,
    },
    mode,
    replayed: { dir: replayDir, file },
  };
}
