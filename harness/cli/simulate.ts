// `npm run simulate -- [options]`: a live fleet against a broker and the reference ingestion pipeline, then the
// invariants. Exit 0 pass, 1 an invariant violated, 2 usage or environment error, 3 unknown (e.g. time budget),
// 4 a `--replay` of a sim bundle that did not reproduce it byte for byte (harness/run/replay-check.ts).
import './stdio.ts';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { formatVerdicts } from '../checker/index.ts';
import type { RunHooks } from '../run/live-run.ts';
import { reproduceCommand } from '../run/reproduce.ts';
import { describeFaultPlan } from '../nemesis/fault-plan.ts';
import { reportShard } from './shard-options.ts';
import { redactUrl } from '../world/redact.ts';
import { describeFailure, UsageError } from '../run/exit-codes.ts';
import { standardCli, usageFailure } from './exit.ts';
import { createProgressDisplay } from './progress.ts';
import { onStopRequest } from './stop-signals.ts';
import { formatTable } from './table.ts';
import { sweepCli } from './sweep-cli.ts';
import { parseSeedList } from '../run/sweep.ts';
import { resolveSimulateRun, simulateArgs, type ResolvedSimulate } from './simulate-args.ts';
import { runSimulateJob, runStats, type SimulateOutcome } from '../run/simulate-job.ts';

const args = hideBin(process.argv);
const argv = await standardCli(simulateArgs(yargs(args), args)).parseAsync();

let resolved: ResolvedSimulate;
try {
  resolved = await resolveSimulateRun(argv, args);
} catch (error) {
  if (error instanceof UsageError) usageFailure(error.message, undefined);
  const failure = describeFailure(error);
  console.error(failure.message);
  process.exit(failure.exitCode);
}
const { options, mode, replayed } = resolved;
const replayDir = replayed?.dir;
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
      : ` shard=${options.shard.index}/${options.shard.count} run-id=${options.shard.runId}`) +
    (options.webhook === undefined
      ? ''
      : ` webhook=${options.webhook.url === undefined ? `"${options.webhook.command ?? ''}"` : redactUrl(options.webhook.url)}` +
        ` webhook-timeout-ms=${options.webhook.timeoutMs} webhook-retries=${options.webhook.retries}`),
);
say(`faults: ${describeFaultPlan(options.faults)}`);
const replayLine = () => reproduceCommand(options, mode);
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
let outcome: SimulateOutcome;
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
  outcome = await runSimulateJob({
    options,
    mode,
    ...(replayed === undefined ? {} : { replayed }),
    reportDir,
    hooks,
  });
} catch (error) {
  progress.stop();
  const failure = describeFailure(error);
  console.error(failure.message);
  process.exit(failure.exitCode);
}
progress.stop();
const { result, sim: simResult, replayCheck, bundle } = outcome;
// A shard judges nothing: `npm run check` does, over every shard's history.
if (result.shard !== undefined) process.exit(reportShard(result, options.databaseUrl, argv.json));
if (outcome.report !== undefined)
  say(`report: ${outcome.report.htmlPath} (${outcome.report.junitPath}, ${outcome.report.summaryPath})`);

const p = result.pipeline;
const brokerRefusals = result.history.events.filter((e) => e.type === 'broker_refused').length;
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
  [
    'rejections',
    p.rejected === 0
      ? 0
      : `${p.rejected} (${rejections})${p.rejectedCounted > 0 ? `; ${p.rejectedCounted} past the cap per device per minute, stored as counts` : ''}`,
  ],
  ...(brokerRefusals > 0
    ? ([['broker refusals', `${brokerRefusals} (logins, publishes or subscribes the broker's auth refused)`]] as [
        string,
        string,
      ][])
    : []),
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
  ...(result.webhook === undefined
    ? []
    : ([
        [
          'webhook deliveries',
          `${result.webhook.delivered} delivered of ${result.webhook.copies} (${result.webhook.messages} messages), ` +
            `${result.webhook.retried} retried, ${result.webhook.timedOut} timed out, ${result.webhook.answered5xx} 5xx, ` +
            `${result.webhook.gaveUp} given up, ${result.webhook.refused} refused (4xx), ${result.webhook.networkErrors} network errors`,
        ],
      ] as [string, string][])),
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
          ...(options.webhook === undefined
            ? {}
            : { webhook: { ...options.webhook, url: options.webhook.url && redactUrl(options.webhook.url) } }),
        },
        verdict: result.verdict,
        aborted: result.aborted,
        invariants: result.verdicts,
        ...runStats(result),
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
process.exit(outcome.exitCode);
