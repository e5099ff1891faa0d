// `npm run pipeline -- --broker-url <url> --database-url <url> [--migrate]`: the reference ingestion service
// alone, as a long-running process for real devices or any MQTT client that follows PROTOCOL.md. Runs until
// SIGINT/SIGTERM, then drains (finishes and commits what it received) and exits cleanly.
import './stdio.ts';
import { commandFor } from '../run/command-line.ts';
import pg from 'pg';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { migrateUp, readStageStatus } from '../../schema/runner.ts';
import { probeDatabase } from '../db/external-server.ts';
import { describeAddress } from '../db/database-error.ts';
import { startPipeline } from '../pipeline/index.ts';
import { probeBroker } from '../world/broker.ts';
import { describeFailure } from '../run/exit-codes.ts';
import { standardCli } from './exit.ts';
import { onStopRequest } from './stop-signals.ts';
import { numberOption } from './number-option.ts';
import { brokerCaOf, brokerLoginOptions, brokerLoginProblem, brokerUrlWithLogin } from './broker-login.ts';
import { checkWorldUrls } from './world-options.ts';
import { workersOption, workersProblem } from './worker-options.ts';
import { redactText, redactUrl } from '../world/redact.ts';

const argv = await standardCli(
  yargs(hideBin(process.argv))
    .scriptName(commandFor('pipeline'))
    .usage(
      '$0 --broker-url <url> --database-url <url> [--migrate]\n\nRuns the reference ingestion pipeline (profile "fixed") until SIGINT/SIGTERM: subscribes to both dialects\'\n' +
        'device topics, provisions devices, stores chunks durably, assembles and verifies images, and acknowledges\n' +
        'only after commit. The database must be at the pipeline stage (schema/001–004); --migrate takes it there.',
    )
    .options({
      'broker-url': {
        type: 'string',
        default: process.env.MQTT_URL,
        defaultDescription: '$MQTT_URL',
        describe: 'MQTT broker (mqtt://host:port, mqtts:// for TLS)',
      },
      ...brokerLoginOptions,
      'database-url': {
        type: 'string',
        default: process.env.DATABASE_URL,
        defaultDescription: '$DATABASE_URL',
        describe: 'Postgres database to write to',
      },
      migrate: {
        type: 'boolean',
        default: false,
        describe: 'apply schema/ steps through "pipeline" first (creating the base schema if the database is empty)',
      },
      ...workersOption('1 (a broker without shared subscriptions takes only 1)'),
      group: {
        type: 'string',
        default: 'camfleet-pipeline',
        describe:
          'the shared subscription group (with --workers > 1): pipelines in one group, in this process or others, split the messages',
      },
      'stats-interval-s': numberOption('stats-interval-s', {
        default: 10,
        describe: 'print a statistics line this often (0: never)',
      }),
    })
    .check((a) => {
      if (!a['broker-url']) throw new Error('--broker-url (or MQTT_URL) is required');
      if (!a['database-url']) throw new Error('--database-url (or DATABASE_URL) is required');
      checkWorldUrls(a);
      const loginTrouble = brokerLoginProblem(a, hideBin(process.argv));
      if (loginTrouble !== undefined) throw new Error(loginTrouble);
      const workersTrouble = workersProblem(a.workers, false);
      if (workersTrouble !== undefined) throw new Error(workersTrouble);
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(a.group))
        throw new Error(`--group must be 1–64 of [A-Za-z0-9_.-], got ${a.group}`);
      const every = a['stats-interval-s'];
      if (every < 0) throw new Error(`--stats-interval-s must be 0 (never) or more seconds, got ${every}`);
      return true;
    }),
).parseAsync();

const brokerUrl = brokerUrlWithLogin(argv) ?? '';
const brokerCa = brokerCaOf(argv);
const databaseUrl = argv['database-url'] ?? '';

try {
  const db = await probeDatabase(databaseUrl);
  if (!db.ok)
    throw Object.assign(new Error(`cannot connect to Postgres at ${describeAddress(databaseUrl)}: ${db.reason}`), {
      exitCode: 2,
    });
  const mq = await probeBroker(brokerUrl, brokerCa);
  if (!mq.ok)
    throw Object.assign(new Error(`cannot connect to the MQTT broker at ${redactUrl(brokerUrl)}: ${mq.reason}`), {
      exitCode: 2,
    });
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    if (argv.migrate) {
      const status = await readStageStatus(client);
      if (!status.base) await migrateUp(client, 'base');
      await migrateUp(client, 'pipeline', { onNotice: (n) => console.log(`${n.severity}:  ${n.message}`) });
    }
    const status = await readStageStatus(client);
    if (!status.pipeline || !status.resume) {
      throw Object.assign(new Error('the database is not at the pipeline stage (schema/001–004)'), {
        exitCode: 2,
        hint: 'run with --migrate, or `DATABASE_URL=… npm run migrate -- up --to pipeline`',
      });
    }
  } finally {
    await client.end();
  }
} catch (error) {
  const failure = describeFailure(error);
  console.error(failure.message);
  process.exit(failure.exitCode);
}

// Every pipeline line may quote a driver's error; none may show a password of ours.
const log = (line: string) => console.log(redactText(line, [brokerUrl, databaseUrl]));
const workers = argv.workers ?? 1;
const pipeline = await startPipeline({
  brokerUrl,
  brokerCa,
  databaseUrl,
  profile: 'fixed',
  log,
  ...(workers > 1 ? { sharedGroup: argv.group, consumers: workers } : {}),
});
const statsEveryMs = argv['stats-interval-s'] * 1000;
const printStats = () => {
  const s = pipeline.stats();
  console.log(
    `stats: ${s.messages} messages, ${s.hellos} hellos, ${s.imagesCompleted} images complete, ${s.chunksStored} chunks stored, ${s.acksSent} acks, ${s.duplicatesLogged} duplicates logged, ${s.rejected} rejected`,
  );
};
const ticker = statsEveryMs > 0 ? setInterval(printStats, statsEveryMs) : undefined;

// SIGINT, SIGTERM or the parent going away (`kill <npm pid>` with a layer in between that dies of it): drain and
// exit 0. One Ctrl-C that several layers deliver counts once; a genuinely second one exits at once (stop-signals.ts).
onStopRequest({
  stop(reason) {
    if (ticker) clearInterval(ticker);
    console.log(`${reason}: draining…`);
    pipeline.stop().then(
      () => {
        printStats();
        console.log('stopped cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`error while stopping: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  },
});
// Only now: a test (or a user's script) that signals on this line must find the handlers installed.
console.log(
  `pipeline running: broker ${redactUrl(brokerUrl)}, database ${describeAddress(databaseUrl)}. Ctrl-C to stop.`,
);
