// `npm run bench -- [--fleets 500,2000,10000] [--json] [--broker-url URL] [--database-url URL]`: for each fleet
// size, side by side in one run (issue 10): the raw broker ceiling (broker-ceiling.ts), the Postgres ceiling
// (postgres-ceiling.ts) and camfleet `simulate` end to end with its invariants checked, with `--faults none` and
// with the default mix (simulate-run.ts). Prints a table, or with --json
// {"fleets":[{"devices","camfleetWallS","brokerCeilingMsgPerS","postgresCeilingRowsPerS","endToEndChunksPerS",
// "ratioToBroker","ratioToPostgres","peakRssMiB", …}]}. README's performance table is made from it.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { standardCli } from '../harness/cli/exit.ts';
import { formatTable } from '../harness/cli/table.ts';
import { createScratchDatabase } from '../harness/db/scratch-database.ts';
import { openDatabaseServer } from '../harness/db/server.ts';
import { WORKERS_EXTERNAL_DEFAULT } from '../harness/run/run-options.ts';
import { startEmbeddedBroker } from '../harness/world/broker.ts';
import { redactUrl } from '../harness/world/redact.ts';
import { measureBrokerCeiling } from './broker-ceiling.ts';
import { measurePostgresCeiling } from './postgres-ceiling.ts';
import { runSimulate, type SimulateRun } from './simulate-run.ts';

const argv = await standardCli(
  yargs(hideBin(process.argv))
    .scriptName('npm run bench --')
    .usage(
      '$0 [options]\n\nFor each fleet size: the broker ceiling (bare mqtt.js publishers, the same messages), the Postgres ceiling\n' +
        '(the same chunk rows, batched INSERT … SELECT FROM unnest), and camfleet simulate end to end with --faults\n' +
        'none and with the default fault mix (with --broker-url also --faults none on the embedded aedes, to compare).\n' +
        'Prints numbers; exit 1 only when a camfleet run did not pass.',
    )
    .options({
      fleets: { type: 'string', default: '500', describe: 'fleet sizes, comma-separated (e.g. 500,2000,10000)' },
      json: { type: 'boolean', default: false, describe: 'print {"fleets":[…]} on stdout instead of the table' },
      'broker-url': {
        type: 'string',
        default: process.env.MQTT_URL,
        defaultDescription: '$MQTT_URL, else aedes in-process',
        describe: 'a real broker for all three measurements',
      },
      'database-url': {
        type: 'string',
        default: process.env.DATABASE_URL,
        defaultDescription: '$DATABASE_URL, else embedded',
        describe: 'a Postgres server (scratch databases are created and dropped there)',
      },
      repeat: { type: 'number', default: 1, describe: 'runs of each camfleet measurement; the median is reported' },
      'image-kb': { type: 'number', default: 70, describe: 'mean image size in KiB (chunks of 1024 bytes)' },
      'default-mix': {
        type: 'boolean',
        default: true,
        describe: 'also run camfleet with the default fault mix (--no-default-mix skips it)',
      },
    })
    .check((a) => {
      const fleets = a.fleets.split(',').map(Number);
      if (fleets.some((n) => !Number.isInteger(n) || n < 1 || n > 20_000))
        throw new Error(`--fleets must be whole numbers from 1 to 20000, comma-separated, got ${a.fleets}`);
      if (!Number.isInteger(a.repeat) || a.repeat < 1)
        throw new Error(`--repeat must be a whole number ≥ 1, got ${a.repeat}`);
      return true;
    }),
).parseAsync();

const fleets = argv.fleets.split(',').map(Number);
const brokerUrl = argv['broker-url'] || undefined;
const databaseUrl = argv['database-url'] || undefined;
const chunksPerDevice = Math.ceil((argv['image-kb'] * 1024) / 1024);
/** A chunk message as the firmware sends it: 1024 bytes in base64 and its JSON fields. */
const CHUNK_MESSAGE_BYTES = 1470;
const log = (line: string) => process.stderr.write(line + '\n');

interface FleetFigures {
  readonly devices: number;
  readonly camfleetWallS: number;
  readonly camfleetDefaultMixWallS: number | null;
  /** With --broker-url: the same fleet (--faults none) on the embedded aedes, for comparison. */
  readonly camfleetAedesWallS: number | null;
  readonly brokerCeilingMsgPerS: number;
  readonly brokerCeilingWallS: number;
  readonly brokerDelivered: number;
  readonly brokerPublished: number;
  readonly postgresCeilingRowsPerS: number;
  readonly endToEndChunksPerS: number;
  readonly ratioToBroker: number;
  readonly ratioToPostgres: number;
  readonly resentPct: number;
  readonly peakRssMiB: number;
  readonly verdicts: readonly string[];
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** `onBroker`: the given --broker-url (default), or the embedded aedes (the comparison a real broker is held to). */
async function camfleetRuns(devices: number, faultsNone: boolean, onBroker = true): Promise<SimulateRun[]> {
  const args = ['--devices', String(devices), '--image-kb', String(argv['image-kb']), '--seed', '1', '--quiet'];
  if (faultsNone) args.push('--faults', 'none');
  if (brokerUrl !== undefined && onBroker) args.push('--broker-url', brokerUrl);
  if (databaseUrl !== undefined) args.push('--database-url', databaseUrl);
  const runs: SimulateRun[] = [];
  for (let i = 0; i < argv.repeat; i++) {
    const r = await runSimulate(args);
    log(
      `  simulate --devices ${devices}${faultsNone ? ' --faults none' : ''}${brokerUrl !== undefined && !onBroker ? ' (aedes)' : ''}: ${r.wallS.toFixed(2)} s, ${r.verdict}, ` +
        `${r.chunksStored} chunks stored, ${r.chunksResent} re-sent, peak RSS ${r.peakRssMiB.toFixed(0)} MiB`,
    );
    runs.push(r);
  }
  return runs;
}

const server = await openDatabaseServer({ databaseUrl });
const results: FleetFigures[] = [];
try {
  for (const devices of fleets) {
    log(`fleet of ${devices} devices (broker ${brokerUrl === undefined ? 'aedes in-process' : redactUrl(brokerUrl)})`);
    const broker = brokerUrl === undefined ? await startEmbeddedBroker() : undefined;
    const ceiling = await measureBrokerCeiling({
      brokerUrl: brokerUrl ?? broker?.url ?? '',
      clients: devices,
      messagesPerClient: chunksPerDevice,
      payloadBytes: CHUNK_MESSAGE_BYTES,
      subscribers: brokerUrl === undefined ? 1 : WORKERS_EXTERNAL_DEFAULT,
    }).finally(() => broker?.stop());
    log(`  broker ceiling: ${ceiling.delivered}/${ceiling.published} delivered in ${ceiling.wallS.toFixed(2)} s`);
    const scratch = await createScratchDatabase(server, 'bench');
    const pgCeiling = await measurePostgresCeiling(scratch.url, devices * chunksPerDevice, 1024).finally(() =>
      scratch.drop(),
    );
    log(`  Postgres ceiling: ${pgCeiling.rows} rows in ${pgCeiling.wallS.toFixed(2)} s`);
    const none = await camfleetRuns(devices, true);
    const mixed = !argv['default-mix'] ? [] : await camfleetRuns(devices, false);
    // A real broker's run is held to the embedded aedes' run of the same fleet.
    const onAedes = brokerUrl === undefined ? [] : await camfleetRuns(devices, true, false);
    const wallS = median(none.map((r) => r.wallS));
    const chunks = median(none.map((r) => r.chunksStored));
    const endToEnd = chunks / wallS;
    results.push({
      devices,
      camfleetWallS: round(wallS, 2),
      camfleetDefaultMixWallS: mixed.length === 0 ? null : round(median(mixed.map((r) => r.wallS)), 2),
      camfleetAedesWallS: onAedes.length === 0 ? null : round(median(onAedes.map((r) => r.wallS)), 2),
      brokerCeilingMsgPerS: Math.round(ceiling.deliveredPerS),
      brokerCeilingWallS: round(ceiling.wallS, 2),
      brokerDelivered: ceiling.delivered,
      brokerPublished: ceiling.published,
      postgresCeilingRowsPerS: Math.round(pgCeiling.rowsPerS),
      endToEndChunksPerS: Math.round(endToEnd),
      ratioToBroker: round(endToEnd / ceiling.deliveredPerS, 3),
      ratioToPostgres: round(endToEnd / pgCeiling.rowsPerS, 3),
      resentPct: round((100 * median(none.map((r) => r.chunksResent))) / Math.max(1, chunks), 2),
      peakRssMiB: Math.round(Math.max(...none.map((r) => r.peakRssMiB), ...mixed.map((r) => r.peakRssMiB))),
      verdicts: [...none, ...mixed, ...onAedes].map((r) => r.verdict),
    });
  }
} finally {
  await server.stop();
}

if (argv.json) {
  process.stdout.write(JSON.stringify({ fleets: results }, null, 2) + '\n');
} else {
  process.stdout.write(
    formatTable(
      [
        'devices',
        'camfleet s (none)',
        'camfleet s (mix)',
        ...(brokerUrl === undefined ? [] : ['camfleet s (aedes)', '÷ aedes']),
        'broker msg/s',
        'Postgres rows/s',
        'end-to-end chunks/s',
        '÷ broker',
        '÷ Postgres',
        're-sent %',
        'peak RSS MiB',
        'verdicts',
      ],
      results.map((r) => [
        r.devices,
        r.camfleetWallS,
        r.camfleetDefaultMixWallS ?? '–',
        ...(brokerUrl === undefined
          ? []
          : [
              r.camfleetAedesWallS ?? '–',
              r.camfleetAedesWallS === null ? '–' : round(r.camfleetWallS / r.camfleetAedesWallS, 2),
            ]),
        r.brokerCeilingMsgPerS,
        r.postgresCeilingRowsPerS,
        r.endToEndChunksPerS,
        r.ratioToBroker,
        r.ratioToPostgres,
        r.resentPct,
        r.peakRssMiB,
        r.verdicts.join(' '),
      ]),
    ) + '\n',
  );
}
process.exit(results.every((r) => r.verdicts.every((v) => v === 'pass')) ? 0 : 1);
