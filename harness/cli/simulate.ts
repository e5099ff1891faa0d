// `npm run simulate -- [options]`: a live fleet against a broker and the reference ingestion pipeline, then the
// invariants. Exit 0 pass, 1 an invariant violated, 2 usage or environment error, 3 unknown (e.g. time budget),
// 4 a `--replay` of a sim bundle that did not reproduce it byte for byte (harness/run/replay-check.ts).
import './stdio.ts';
import { resolve } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { randomSeed } from '../../simulator/random/prng.ts';
import { firmwareProfileDescriptions, firmwareProfiles } from '../../simulator/firmware/index.ts';
import { formatVerdicts } from '../checker/index.ts';
import { runLive, type LiveRunResult, type RunHooks } from '../run/live-run.ts';
import { runSim, type SimRunResult } from '../run/sim-run.ts';
import { reproduceCommand } from '../run/reproduce.ts';
import {
  bundleRunOptions,
  defaultBundleDir,
  historyNdjson,
  replayCommand,
  readBundleFile,
  writeBundle,
  type BundleFile,
} from '../run/bundle.ts';
import { checkReplay, type ReplayCheck } from '../run/replay-check.ts';
import { entryFromRun, writeReport } from '../report/index.ts';
import { buildFaultPlan, describeFaultPlan, type FaultMix } from '../nemesis/fault-plan.ts';
import { liveRunDefaults, pipelineChoices, type LiveRunOptions, type RunStage } from '../run/run-options.ts';
import { faultOverridesFrom, faultYargsOptions } from './fault-options.ts';
import { checkWorldUrls, worldOptions } from './world-options.ts';
import {
  fleetThreadsOption,
  fleetThreadsProblem,
  SIMULATE_WORKERS_DEFAULT,
  workersOption,
  workersProblem,
} from './worker-options.ts';
import { reportShard, shardOf, shardOptions, shardProblem, shardSeed } from './shard-options.ts';
import { flagGiven, runModes, simModeProblem, type RunMode } from './sim-mode.ts';
import { numberOption } from './number-option.ts';
import { checkBundlePath, checkCreatableDirectory, checkWritableFile } from './path-options.ts';
import { redactUrl } from '../world/redact.ts';
import { describeFailure, exitCodes } from '../run/exit-codes.ts';
import { standardCli, usageFailure } from './exit.ts';
import { createProgressDisplay } from './progress.ts';
import { onStopRequest } from './stop-signals.ts';
import { formatTable } from './table.ts';
import { sweepCli, sweepProblem } from './sweep-cli.ts';
import { parseShard } from '../run/shard.ts';
import { parseSeedList, SWEEP_JOBS_DEFAULT, SWEEP_JOBS_MAX } from '../run/sweep.ts';

const argv = await standardCli(
  yargs(hideBin(process.argv))
    .scriptName('npm run simulate --')
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
        describe: 'with --pipeline external: shell command that starts your service; it gets MQTT_URL and DATABASE_URL',
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
      checkWorldUrls(a);
      if (a.history !== undefined) checkWritableFile('history', a.history);
      if (a.report !== undefined) checkCreatableDirectory('report', a.report);
      if (a.replay !== undefined) checkBundlePath('replay', a.replay);
      if (a['external-cmd'] !== undefined && a.pipeline !== 'external')
        throw new Error('--external-cmd goes with --pipeline external');
      const shardTrouble = shardProblem(a);
      if (shardTrouble !== undefined) throw new Error(shardTrouble);
      const workersTrouble = workersProblem(a.workers, a.mode === 'sim' || !a['broker-url']);
      if (workersTrouble !== undefined) throw new Error(workersTrouble);
      const threadsTrouble = fleetThreadsProblem(a['fleet-threads'], a.mode === 'sim');
      if (threadsTrouble !== undefined) throw new Error(threadsTrouble);
      const simProblem = a.mode === 'sim' ? simModeProblem(a) : undefined;
      if (simProblem !== undefined) throw new Error(simProblem);
      if (a.seeds !== undefined) {
        const problem = sweepProblem(a);
        if (problem !== undefined) throw new Error(problem);
        parseSeedList(a.seeds);
      }
      if (!(Number.isInteger(a.jobs) && a.jobs >= 1 && a.jobs <= SWEEP_JOBS_MAX))
        throw new Error(`--jobs must be a whole number from 1 to ${SWEEP_JOBS_MAX}, got ${a.jobs}`);
      if (a.seeds === undefined && process.argv.slice(2).some((x) => x === '--jobs' || x.startsWith('--jobs=')))
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
    }),
).parseAsync();

const replayDir = argv.replay === undefined ? undefined : checkBundlePath('replay', argv.replay);
/** The bundle being replayed: its options replace the workload flags, and its mode is the run's unless --mode says. */
let replayed: BundleFile | undefined;
if (replayDir !== undefined) {
  try {
    replayed = await readBundleFile(replayDir);
  } catch (error) {
    const failure = describeFailure(error);
    console.error(failure.message);
    process.exit(failure.exitCode);
  }
}
// A sim bundle replays in sim without `--mode sim`: only sim can give the run back byte for byte.
const mode: RunMode = replayed !== undefined && !flagGiven('mode') ? replayed.mode : (argv.mode as RunMode);
if (mode === 'sim' && argv.mode !== 'sim') {
  // The flags sim refuses were only checked for an explicit --mode sim.
  const problem = simModeProblem(argv);
  if (problem !== undefined) usageFailure(problem, undefined);
}
const faultMix = (argv as Record<string, unknown>).faults as FaultMix;
const shard = shardOf(argv);
const typedOptions: LiveRunOptions = {
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
  brokerUrl: mode === 'sim' ? undefined : argv['broker-url'] || undefined,
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
  workers: argv.workers,
  fleetThreads: argv['fleet-threads'],
  shard,
};

const options: LiveRunOptions =
  replayed === undefined
    ? typedOptions
    : {
        ...bundleRunOptions(replayed, { brokerUrl: typedOptions.brokerUrl, databaseUrl: typedOptions.databaseUrl }),
        historyPath: typedOptions.historyPath,
      };
const reportDir = argv.report;

// A sweep: many sim runs, one line each for those that do not pass, one summary line (sweep-cli.ts).
if (argv.seeds !== undefined) {
  const sweepStop = new AbortController();
  onStopRequest({
    stop(reason) {
      process.stderr.write(`\n${reason}: stopping the sweep after this run (Ctrl-C again to exit at once)…\n`);
      sweepStop.abort();
    },
  });
  try {
    process.exit(
      await sweepCli(options, parseSeedList(argv.seeds), {
        json: argv.json,
        quiet: argv.quiet,
        jobs: argv.jobs,
        signal: sweepStop.signal,
      }),
    );
  } catch (error) {
    const failure = describeFailure(error);
    console.error(failure.message);
    process.exit(failure.exitCode);
  }
}

// With --json, stdout carries only the summary; everything for people goes to stderr.
const out = argv.json ? process.stderr : process.stdout;
const say = (line: string) => {
  if (!argv.quiet || argv.json) out.write(line + '\n');
};
say(`seed: ${options.seed}${replayDir !== undefined ? ` (replaying ${replayDir})` : ''}`);
say(
  `options: devices=${options.devices} images=${options.imagesPerDevice} image-kb=${options.imageKbMean} chunk-bytes=${options.chunkBytes} ` +
    `wakes-max=${options.wakesMax} qos=${options.qos} dialect=${options.dialect} broker=${mode === 'sim' ? 'sim router (in-process)' : options.brokerUrl ? redactUrl(options.brokerUrl) : 'aedes (in-process)'} ` +
    `database=${options.databaseUrl ? 'DATABASE_URL' : 'embedded'} time-scale=${mode === 'sim' ? '1 (sim: virtual time)' : options.timeScale} time-budget-s=${options.timeBudgetMs / 1000} ` +
    `pipeline=${options.pipeline} firmware=${options.firmware}${options.ackNamesCapture ? ' ack-names-capture' : ''} stage=${options.stage} mode=${mode}` +
    (options.workers === undefined ? '' : ` workers=${options.workers}`) +
    (options.fleetThreads === undefined ? '' : ` fleet-threads=${options.fleetThreads}`) +
    (options.shard === undefined
      ? ''
      : ` shard=${options.shard.index}/${options.shard.count} run-id=${options.shard.runId}`),
);
say(`faults: ${describeFaultPlan(options.faults)}`);
const replayLine = () => `${reproduceCommand(options)}${mode === 'sim' ? ' --mode sim' : ''}`;
say(`replay: ${replayLine()}`);

const progress = createProgressDisplay({
  devices: options.devices,
  quiet: argv.quiet,
  stream: argv.json ? process.stderr : process.stdout,
});
// Ctrl-C (or SIGTERM, or the parent going away) stops the fleet and still reports, writes the bundle and tears
// everything down (database dropped, servers stopped); a genuinely second Ctrl-C exits at once (stop-signals.ts).
const interrupt = new AbortController();
let interrupted = false;
onStopRequest({
  stop(reason) {
    interrupted = true;
    progress.stop();
    process.stderr.write(`\n${reason}: stopping the run and cleaning up (Ctrl-C again to exit at once)…\n`);
    interrupt.abort();
  },
});
let result: LiveRunResult;
/** The same result with the sim run's schedule, in sim mode. */
let simResult: SimRunResult | undefined;
try {
  const hooks: RunHooks = {
    signal: interrupt.signal,
    onPhase: (phase) => {
      if (!argv.quiet && !out.isTTY) out.write(`${phase}…\n`);
    },
    onWarning: (line) => {
      if (!argv.quiet) process.stderr.write(`warning: ${line}\n`);
    },
    onProgress: (p) => progress.update(p),
  };
  if (mode === 'sim') result = simResult = await runSim(options, hooks);
  else result = await runLive(options, hooks);
} catch (error) {
  progress.stop();
  const failure = describeFailure(error);
  console.error(failure.message);
  process.exit(failure.exitCode);
}
progress.stop();
// A shard judges nothing: `npm run check` does, over every shard's history.
if (result.shard !== undefined) process.exit(reportShard(result, options.databaseUrl, argv.json));

// A replay is held against its bundle: byte for byte for a sim bundle replayed in sim, otherwise said to be unchecked.
let replayCheck: ReplayCheck | undefined;
if (replayed !== undefined && replayDir !== undefined)
  replayCheck = await checkReplay(replayDir, replayed, {
    mode,
    aborted: result.aborted,
    verdicts: result.verdicts,
    scheduleDigest: simResult?.schedule.scheduleDigest,
    historyText: historyNdjson(result.history.events),
  });

// A failure leaves a bundle that re-runs the same workload and fault plan; --report writes CI-readable files.
let bundle: { dir: string; replay: string } | undefined;
try {
  // A replay that reproduced its bundle exactly has nothing to add to it; one that did not leaves its own bundle
  // even when it passed, so that the two histories can be diffed.
  if (replayCheck?.status === 'reproduced' && replayDir !== undefined) {
    if (result.verdict !== 'pass') bundle = { dir: replayDir, replay: replayCommand(replayDir) };
  } else if (result.verdict !== 'pass' || replayCheck?.status === 'diverged') {
    const dir = defaultBundleDir('simulate', options.seed, reportDir);
    // A replay never writes over the bundle it replays (which is the evidence it was held against).
    const beside = replayDir !== undefined && resolve(dir) === resolve(replayDir) ? `${dir}-replay` : dir;
    bundle = await writeBundle(beside, {
      options,
      expected: 'pass',
      verdict: result.verdict,
      verdicts: result.verdicts,
      history: result.history.events,
      sim: simResult === undefined ? undefined : { scheduleDigest: simResult.schedule.scheduleDigest },
    });
  }
  if (reportDir !== undefined) {
    const written = await writeReport(reportDir, [
      entryFromRun({ name: 'simulate', purpose: 'npm run simulate', options, expected: 'pass' }, result, {
        bundleDir: bundle?.dir,
        replay: bundle?.replay,
      }),
    ]);
    say(`report: ${written.junitPath}, ${written.summaryPath}`);
  }
} catch (error) {
  // The run is done and judged; failing to write its files is an environment error, not a verdict.
  console.error(describeFailure(error).message.replace(/^error: /, 'error: could not write the bundle or report: '));
  process.exit(exitCodes.usage);
}

const p = result.pipeline;
const rejections = Object.entries(p.rejections)
  .map(([code, n]) => `${code} ${n}`)
  .join(', ');
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const summaryRows: [string, string | number][] = [
  [
    'devices',
    `${result.fleet.devicesDone} done of ${options.devices}${result.fleet.gaveUp ? ` (${result.fleet.gaveUp} gave up a wake)` : ''}` +
      (result.fleet.pipelineHolds > 0
        ? `; wakes held ${result.fleet.pipelineHolds}× while the pipeline caught up`
        : ''),
  ],
  [
    'images captured / complete',
    // Complete rows in the database (a crashed pipeline's late commit is not in its counts).
    `${result.fleet.captured} / ${result.imagesComplete ?? p.imagesCompleted} (${result.fleet.acked} acknowledged)`,
  ],
  ['chunks sent / stored / re-sent', `${result.fleet.chunksSent} / ${p.chunksStored} / ${result.fleet.chunksResent}`],
  ['rejections', p.rejected === 0 ? 0 : `${p.rejected} (${rejections})`],
  [
    'duplicates logged',
    // Double sends are mostly caught mid-transfer (merged into it, nothing to log): only a re-send of an image
    // already stored complete is a duplicate_images_log row. Said here, so "0" next to "double_send 19" is no riddle.
    `${p.duplicatesLogged} (re-sends of images already complete; a re-send during its transfer is merged into it)`,
  ],
  ['missing-chunk requests', p.missingRequests],
  [
    'throughput',
    // In sim, fleetMs is virtual time (hours of deep sleep in full): a rate over it says nothing about the pipeline.
    simResult !== undefined
      ? `n/a in sim (${seconds(result.fleetMs)} of virtual time)`
      : `${Math.round((p.chunksStored * 1000) / Math.max(1, result.fleetMs))} chunks/s over ${seconds(result.fleetMs)}`,
  ],
  ['wall time', seconds(result.wallMs)],
  ...(simResult === undefined
    ? []
    : ([
        [
          'sim: virtual time / schedule',
          `${(simResult.virtualSpanMs / 3_600_000).toFixed(1)} h / ${simResult.schedule.steps} steps, digest ${simResult.schedule.scheduleDigest.slice(0, 16)}`,
        ],
      ] as [string, string][])),
  ['peak memory (RSS)', `${Math.round(result.peakRssBytes / 1024 / 1024)} MiB`],
  [
    'faults injected',
    Object.keys(result.faultsInjected).length === 0
      ? 'none'
      : Object.entries(result.faultsInjected)
          .map(([fault, n]) => `${fault} ${n}`)
          .join(', '),
  ],
  [
    'broker / database',
    `${result.brokerKind} / ${result.databaseKind}${result.keptDatabaseUrl ? ` (kept: ${redactUrl(result.keptDatabaseUrl)})` : ''}`,
  ],
];

if (argv.json) {
  process.stdout.write(
    JSON.stringify(
      {
        seed: options.seed,
        // The URLs as a person may see them: never with a password.
        options: {
          ...options,
          brokerUrl: options.brokerUrl && redactUrl(options.brokerUrl),
          databaseUrl: options.databaseUrl && redactUrl(options.databaseUrl),
        },
        verdict: result.verdict,
        aborted: result.aborted,
        invariants: result.verdicts,
        fleet: result.fleet,
        pipeline: p,
        fleetMs: result.fleetMs,
        wallMs: result.wallMs,
        peakRssBytes: result.peakRssBytes,
        faultsInjected: result.faultsInjected,
        broker: result.brokerKind,
        database: result.databaseKind,
        ...(replayCheck === undefined ? {} : { replayCheck }),
      },
      null,
      2,
    ) + '\n',
  );
} else {
  console.log('');
  console.log(formatTable(['summary', ''], summaryRows));
  console.log('');
  console.log(formatVerdicts(result.verdicts));
  console.log('');
  const why = interrupted ? ' (interrupted)' : ' (time budget exceeded)';
  console.log(`verdict: ${result.verdict.toUpperCase()}${result.aborted ? why : ''}`);
  if (replayCheck !== undefined) console.log(replayCheck.line);
  if (result.verdict !== 'pass') console.log(`reproduce: ${replayLine()}`);
  if (bundle) console.log(`failure bundle: ${bundle.dir}\nreplay: ${bundle.replay}`);
}
// With --json the check is in the summary; on a terminal it was printed with the verdict. Either way a replay that
// did not reproduce is a finding of its own and outranks the verdict (exit-codes.ts).
if (argv.json && replayCheck !== undefined) process.stderr.write(replayCheck.line + '\n');
process.exit(
  replayCheck?.status === 'diverged'
    ? exitCodes.replayDiverged
    : result.verdict === 'pass'
      ? exitCodes.pass
      : result.verdict === 'fail'
        ? exitCodes.violated
        : exitCodes.unknown,
);
