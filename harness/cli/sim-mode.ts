// `npm run simulate -- --mode sim` (issue 8 "Sim mode"): what the switch changes on the command line. The run is
// runSim (harness/run/sim-run.ts); here only the flags it cannot honour (refused, exit 2, one line). Its fault plan
// is live's: the default mix, device, network and server faults alike.

export { runModes, type RunMode } from '../run/run-mode.ts';

/** Whether `--flag` is on the command line (yargs' defaults hide whether a user chose a value). */
export const flagGiven = (flag: string, args: readonly string[] = process.argv.slice(2)) =>
  args.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));

/** Why these flags cannot run in sim mode, or undefined. `args`: the command line (default this process's). */
export function simModeProblem(
  a: {
    readonly pipeline?: string;
    readonly 'external-cmd'?: string | undefined;
    readonly 'forward-webhook'?: string | undefined;
    readonly 'webhook-cmd'?: string | undefined;
  },
  args: readonly string[] = process.argv.slice(2),
): string | undefined {
  if (flagGiven('broker-url', args)) return '--mode sim runs its own in-memory broker: --broker-url is for live runs';
  if (a.pipeline === 'external' || a['external-cmd'] !== undefined)
    return '--mode sim cannot run an external pipeline yet (it needs a broker URL)';
  if (a['forward-webhook'] !== undefined || a['webhook-cmd'] !== undefined)
    return '--mode sim cannot forward to a webhook: a sim run is one deterministic process on a virtual clock, and an HTTP handler is outside it (run it live)';
  if (flagGiven('time-scale', args))
    return '--mode sim sleeps in full on its virtual clock: --time-scale is for live runs';
  return undefined;
}
