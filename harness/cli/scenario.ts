// `npm run scenario -- <command>`: the scenario catalogue (scenarios/catalogue/*.json) — list it, run scenarios
// against their expected verdicts (live, or `--mode sim`), or build the sensitivity table. Exit 0 every expectation
// held, 1 one did not, 2 usage or environment error (an unknown scenario name lists the names; a scenario sim refused),
// 3 unknown (a verdict needed was unknown).
import './stdio.ts';
import { commandFor } from '../run/command-line.ts';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { describeFaultPlan } from '../nemesis/fault-plan.ts';
import type { HistoryEvent } from '../history/events.ts';
import { entryLines, writeReport, type ReportEntry } from '../report/index.ts';
import type { Outcome } from '../checker/expectation.ts';
import { describeExpectation, overallOutcome } from '../checker/expectation.ts';
import { runScenario, type ScenarioRun } from '../../scenarios/run-scenario.ts';
import {
  replaceReadmeSection,
  sensitivityCases,
  sensitivityMarkdown,
  sensitivityOutcome,
  sensitivityRows,
} from '../../scenarios/sensitivity.ts';
import { redactUrl } from '../world/redact.ts';
import { webhookOptions, webhookProblem, webhookRunOptions } from './webhook-options.ts';
import { catalogueDir, loadScenario, readCatalogue, scenarioNotInMode, type Scenario } from '../../scenarios/spec.ts';
import { scenarioRunOptions, type ScenarioRunContext } from '../../scenarios/to-run-options.ts';
import { describeFailure, exitCodes } from '../run/exit-codes.ts';
import { standardCli } from './exit.ts';
import { onStopRequest } from './stop-signals.ts';
import { formatTable } from './table.ts';
import { checkWorldUrls, worldOptions } from './world-options.ts';
import { brokerCaOf, brokerLoginOptions, brokerLoginProblem, brokerUrlWithLogin } from './broker-login.ts';
import { numberOption } from './number-option.ts';
import { checkCreatableDirectory, checkReadableFile, checkWritableFile } from './path-options.ts';
import { runModes, simModeProblem, type RunMode } from './sim-mode.ts';

class UsageError extends Error {
  readonly exitCode = exitCodes.usage;
}

interface WorldArgs {
  'broker-url': string | undefined;
  'database-url': string | undefined;
  'mqtt-username'?: string | undefined;
  'mqtt-password'?: string | undefined;
  'mqtt-ca-file'?: string | undefined;
  catalogue: string;
}

/** 1 when an expectation did not hold; else 2 when a run could not start (its error is printed); else 3 or 0. */
const exitFor = (outcome: Outcome, environmentError: boolean) =>
  outcome === 'unmet'
    ? exitCodes.violated
    : environmentError
      ? exitCodes.usage
      : outcome === 'unknown'
        ? exitCodes.unknown
        : exitCodes.pass;

/** Runs `body` and exits with its code; errors become their one line and exit code (2 unless they carry one). */
async function main(body: () => Promise<number>): Promise<void> {
  let code: number;
  try {
    code = await body();
  } catch (error) {
    const failure = describeFailure(error);
    console.error(failure.message);
    code = failure.exitCode;
  }
  process.exit(code);
}

/** The valid scenarios of the catalogue; each invalid file is reported on stderr (and counted) instead of hiding all. */
function catalogueReporting(dir: string): { scenarios: Scenario[]; invalidCount: number } {
  const { scenarios, invalid } = readCatalogue(dir);
  for (const spec of invalid) console.error(`error: invalid scenario file, skipped: ${spec.error}`);
  return { scenarios, invalidCount: invalid.length };
}

function catalogueByName(dir: string, names: readonly string[]): Scenario[] {
  const { scenarios: catalogue, invalid } = readCatalogue(dir);
  return names.map((name) => {
    const scenario = catalogue.find((s) => s.name === name);
    const broken = invalid.find((s) => s.name === name);
    if (broken) throw new UsageError(`scenario "${name}" does not load: ${broken.error}`);
    if (!scenario)
      throw new UsageError(
        `no scenario named "${name}"; the catalogue has:\n${catalogue.map((s) => `  ${s.name}`).join('\n')}`,
      );
    return scenario;
  });
}

/** A scenario that did not run in its mode, as the table and the per-scenario line say it. */
const notRunText = (notRun: NonNullable<ScenarioRun['notRun']>, mode: RunMode) =>
  notRun.kind === 'refused-by-sim' ? `refused by sim: ${notRun.reason}` : `not run in ${mode}: ${notRun.reason}`;

/** What was expected and what happened, per invariant. */
function printEntry(entry: ReportEntry, interrupted = false): void {
  for (const line of entryLines(entry, interrupted)) console.log(line);
}

function context(args: WorldArgs, extra: Partial<ScenarioRunContext> = {}): ScenarioRunContext {
  return {
    brokerUrl: brokerUrlWithLogin(args),
    brokerCa: brokerCaOf(args),
    databaseUrl: args['database-url'] || undefined,
    ...extra,
  };
}

function withWorld<T>(y: Argv<T>) {
  return y
    .options({
      ...worldOptions,
      ...brokerLoginOptions,
      report: {
        type: 'string',
        describe: 'write junit.xml and summary.json (and failure bundles) into this directory',
      },
    })
    .check((a) => {
      // URLs and paths before anything starts: a bad one costs no server start and leaves no temp directory.
      checkWorldUrls(a);
      const loginTrouble = brokerLoginProblem(a, hideBin(process.argv));
      if (loginTrouble !== undefined) throw new Error(loginTrouble);
      if (a.report !== undefined) checkCreatableDirectory('report', a.report);
      return true;
    });
}

const cli = yargs(hideBin(process.argv))
  .scriptName(commandFor('scenario'))
  .usage(
    '$0 <command> [options]\n\nThe scenario catalogue (scenarios/catalogue/*.json): named runs — fleet, pipeline profile, schema stage,\n' +
      'fault plan — each with the verdict it must produce ("pass", or which invariants must fail).\n\n' +
      'Exit codes: 0 every expectation held, 1 one did not, 2 usage or environment error (or a scenario sim refused),\n' +
      '3 unknown.',
  )
  .option('catalogue', {
    type: 'string',
    default: catalogueDir,
    defaultDescription: 'scenarios/catalogue',
    describe: 'the folder of scenario specs (*.json) to list and run',
  })
  .command(
    'list',
    'every scenario: name, pipeline and firmware profiles, expected verdict, one-line purpose',
    (y) => y.option('json', { type: 'boolean', default: false, describe: 'print the validated specs as JSON' }),
    (args) =>
      main(() => {
        const { scenarios: catalogue, invalidCount } = catalogueReporting(args.catalogue);
        if (args.json) console.log(JSON.stringify(catalogue, null, 2));
        else
          console.log(
            formatTable(
              ['scenario', 'pipeline', 'firmware', 'expected', 'purpose'],
              catalogue.map((s) => [
                s.name,
                s.pipeline,
                s.firmware ?? 'fw350',
                describeExpectation(s.expect),
                s.purpose,
              ]),
            ),
          );
        // The valid ones are all listed; an invalid file still makes the exit code say the catalogue is broken.
        return Promise.resolve(invalidCount > 0 ? exitCodes.usage : exitCodes.pass);
      }),
  )
  .command(
    'run [names..]',
    'run scenarios and hold each to its expected verdict (a failing one writes a replay bundle)',
    (y) =>
      withWorld(y)
        .positional('names', { type: 'string', array: true, describe: 'scenario names (see `list`)' })
        .options({
          all: { type: 'boolean', default: false, describe: 'run every scenario of the catalogue' },
          file: { type: 'string', describe: 'run the scenario spec in this file (anywhere; its name need not match)' },
          seed: numberOption('seed', { describe: "override each scenario's seed" }),
          history: { type: 'string', describe: 'write the run history as NDJSON to this file (one scenario only)' },
          fast: { type: 'boolean', default: false, describe: 'shrink each fleet (at most 4 devices, 12 KiB images)' },
          'external-cmd': {
            type: 'string',
            describe:
              'your own pipeline: a shell command that starts it (given MQTT_URL and DATABASE_URL); each scenario runs against it and must pass (live only)',
          },
          ...webhookOptions,
          mode: {
            type: 'string',
            choices: runModes,
            default: 'live',
            describe:
              'live: a real broker and the real clock; sim: each scenario through the seeded scheduler (same seed, same history). A scenario sim cannot run yet is refused (exit 2); one its spec keeps live-only is skipped by --all',
          },
        })
        .check((a) => {
          const names = a.names ?? [];
          const ways = [a.all, names.length > 0, a.file !== undefined].filter(Boolean).length;
          if (ways > 1) throw new Error('give scenario names, --all or --file, one of them');
          if (ways === 0) throw new Error('name a scenario (see `list`) or give --all or --file <spec.json>');
          if (a.file !== undefined) checkReadableFile('file', a.file);
          if (a.seed !== undefined && !(Number.isInteger(a.seed) && a.seed >= 0))
            throw new Error(`--seed must be a whole number, got ${a.seed}`);
          if (a.history !== undefined && (a.all || names.length > 1)) throw new Error('--history takes one scenario');
          if (a.history !== undefined) checkWritableFile('history', a.history);
          const simProblem = a.mode === 'sim' ? simModeProblem({ 'external-cmd': a['external-cmd'] }) : undefined;
          if (simProblem !== undefined) throw new Error(simProblem);
          const webhookTrouble = webhookProblem(a, a.mode);
          if (webhookTrouble !== undefined) throw new Error(webhookTrouble);
          return true;
        }),
    (args) =>
      main(async () => {
        let invalidCount = 0;
        let scenarios: Scenario[];
        if (args.file !== undefined) scenarios = [loadScenario(args.file, { requireFileName: false })];
        else if (args.all) ({ scenarios, invalidCount } = catalogueReporting(args.catalogue));
        else scenarios = catalogueByName(args.catalogue, args.names ?? []);
        const mode = args.mode as RunMode;
        // Naming a scenario its spec keeps out of the mode is a usage error; --all skips it and says why.
        if (!args.all)
          for (const scenario of scenarios) {
            const why = scenarioNotInMode(scenario, mode);
            if (why !== undefined) throw new UsageError(`scenario "${scenario.name}" does not run in ${mode}: ${why}`);
          }
        const entries: ReportEntry[] = [];
        /** Each entry's history (undefined: not run), for report.html's lanes. */
        const histories: (readonly HistoryEvent[] | undefined)[] = [];
        /** The table's rows, scenarios that did not run included. */
        const rows: string[][] = [];
        const notRun = { refused: 0, notInMode: 0 };
        /** Entries of scenarios sim refused: counted as refused, not as unknown verdicts. */
        const refusedEntries = new Set<ReportEntry>();
        // An invalid catalogue file is a scenario that could not run: the others run, the exit code says so.
        let environmentError = invalidCount > 0;
        // Ctrl-C / SIGTERM: the running scenario stops, is judged (unknown) and cleaned up; the rest are skipped.
        const interrupt = new AbortController();
        onStopRequest({
          stop(reason) {
            process.stderr.write(`\n${reason}: stopping the run and cleaning up (Ctrl-C again to exit at once)…\n`);
            interrupt.abort();
          },
        });
        for (const scenario of scenarios) {
          if (interrupt.signal.aborted) break;
          const ctx = context(args, {
            seed: args.seed,
            historyPath: args.history,
            fast: args.fast,
            mode,
            externalCommand: args['external-cmd'],
            webhook: webhookRunOptions(args),
            // Sim runs its own router: MQTT_URL in the environment is for live runs (--broker-url is refused).
            ...(mode === 'sim' ? { brokerUrl: undefined, brokerCa: undefined } : {}),
          });
          const options = scenarioRunOptions(scenario, ctx);
          console.log(`\n== ${scenario.name}: ${scenario.purpose}`);
          console.log(
            `seed: ${options.seed}  pipeline: ${options.pipeline}${options.firmware === 'fw350' ? '' : `  firmware: ${options.firmware}`}  stage: ${options.stage}  devices: ${options.devices} × ${options.imagesPerDevice} images` +
              `  faults: ${describeFaultPlan(options.faults)}${scenario.operator ? `  operator: re-insert at ${scenario.operator.reinsertCompleteRowsAt.join('+')}` : ''}  mode: ${mode}` +
              (options.webhook === undefined
                ? ''
                : `  webhook: ${options.webhook.url === undefined ? (options.webhook.command ?? '') : redactUrl(options.webhook.url)}`),
          );
          // Against the user's own pipeline, or their handler in place of the scenario's, it must pass (runScenario).
          const yours =
            args['external-cmd'] !== undefined
              ? 'your pipeline'
              : ctx.webhook !== undefined && scenario.webhook !== undefined
                ? 'your webhook handler'
                : undefined;
          console.log(`expected: ${yours === undefined ? describeExpectation(scenario.expect) : `pass (${yours})`}`);
          const run = await runScenario(scenario, ctx, {
            reportDir: args.report,
            hooks: { signal: interrupt.signal, onPhase: (phase) => console.log(`${phase}…`) },
          });
          if (run.thrown !== undefined) environmentError = true;
          const e = run.entry;
          if (run.notRun !== undefined) {
            // Not a verdict: a scenario the spec keeps out of the mode is left out of the outcome and the report; one
            // sim refused is an environment error (exit 2) and a JUnit error, so a sim CI run cannot pass without it.
            const text = notRunText(run.notRun, mode);
            console.log(`${scenario.name}: ${text}`);
            rows.push([e.name, describeExpectation(e.expected), text, '-']);
            if (run.notRun.kind === 'refused-by-sim') {
              notRun.refused += 1;
              refusedEntries.add(e);
              entries.push(e);
              histories.push(run.result?.history.events);
            } else notRun.notInMode += 1;
            continue;
          }
          printEntry(e, interrupt.signal.aborted);
          entries.push(e);
          histories.push(run.result?.history.events);
          rows.push([e.name, describeExpectation(e.expected), e.verdict, e.outcome]);
        }
        const outcome = overallOutcome(entries);
        if (scenarios.length > 1) {
          console.log('');
          console.log(formatTable(['scenario', 'expected', 'verdict', 'held'], rows));
          const count = (o: Outcome) => entries.filter((e) => e.outcome === o && !refusedEntries.has(e)).length;
          const unrun = [
            ...(notRun.refused > 0 ? [`${notRun.refused} refused by sim`] : []),
            ...(notRun.notInMode > 0 ? [`${notRun.notInMode} not run in ${mode}`] : []),
          ];
          console.log(
            `\n${count('met')} met, ${count('unmet')} not met, ${count('unknown')} unknown${unrun.map((u) => `, ${u}`).join('')}`,
          );
        }
        if (args.report) {
          const written = await writeReport(args.report, entries, histories);
          console.log(`report: ${written.htmlPath} (${written.junitPath}, ${written.summaryPath})`);
        }
        if (interrupt.signal.aborted) {
          // A broken expectation seen before the interruption still counts; otherwise the answer is unknown.
          console.log(`interrupted: ${entries.length} of ${scenarios.length} scenarios run`);
          return outcome === 'unmet' ? exitCodes.violated : exitCodes.unknown;
        }
        return exitFor(outcome, environmentError);
      }),
  )
  .command(
    'sensitivity',
    'every legacy profile × the scenarios naming it, and fixed × every scenario, as a markdown table',
    (y) =>
      withWorld(y).options({
        'write-readme': {
          type: 'boolean',
          default: false,
          describe: 'replace the README section between <!-- sensitivity:start --> and <!-- sensitivity:end -->',
        },
      }),
    (args) =>
      main(async () => {
        const catalogue = catalogueReporting(args.catalogue);
        const cases = sensitivityCases(catalogue.scenarios);
        const entries: ReportEntry[] = [];
        /** Each entry's history (undefined: not run), for report.html's lanes. */
        const histories: (readonly HistoryEvent[] | undefined)[] = [];
        let environmentError = catalogue.invalidCount > 0;
        for (const [i, c] of cases.entries()) {
          process.stderr.write(`[${i + 1}/${cases.length}] ${c.profile} × ${c.scenario.name}…`);
          const run = await runScenario(c.scenario, context(args), { reportDir: args.report });
          if (run.thrown !== undefined) environmentError = true;
          process.stderr.write(` ${run.entry.verdict} (${run.entry.outcome})\n`);
          entries.push(run.entry);
          histories.push(run.result?.history.events);
        }
        const rows = sensitivityRows(cases, entries);
        const table = sensitivityMarkdown(rows);
        console.log(table);
        if (args['write-readme']) {
          const readmePath = fileURLToPath(new URL('../../README.md', import.meta.url));
          const note =
            'Generated by `npm run scenario -- sensitivity --write-readme` (each scenario once, with its own seed); do not edit by hand.';
          let updated: string;
          try {
            updated = replaceReadmeSection(await readFile(readmePath, 'utf8'), table, note);
          } catch (error) {
            throw new UsageError(error instanceof Error ? error.message : String(error));
          }
          await writeFile(readmePath, updated);
          console.log('README.md: sensitivity section updated');
        }
        if (args.report) await writeReport(args.report, entries, histories);
        return exitFor(sensitivityOutcome(rows), environmentError);
      }),
  )
  .demandCommand(1, 'name a command: list, run or sensitivity');

await standardCli(cli).parseAsync();
