// `npm run simulate -- --mode sim` (issue 8 "Sim mode"): what the switch changes on the command line. The run is
// runSim (harness/run/sim-run.ts); here only the flags it cannot honour yet (refused, exit 2, one line) and the
// default fault mix, whose server faults sim cannot inject yet: unless `--faults` is given, sim takes the mix's
// device and network faults (the network ones act on the router: nemesis/sim-network-nemesis.ts) and leaves its
// server faults out, and the faults line says so.
import {
  buildFaultPlan,
  faultMixes,
  type FaultMix,
  type FaultOverrides,
  type FaultPlan,
} from '../nemesis/fault-plan.ts';

export { runModes, type RunMode } from '../run/run-mode.ts';

/** Whether `--flag` is on the command line (yargs' defaults hide whether a user chose a value). */
export const flagGiven = (flag: string, args: readonly string[] = process.argv.slice(2)) =>
  args.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));

/** Why these flags cannot run in sim mode, or undefined. `args`: the command line (default this process's). */
export function simModeProblem(
  a: { readonly pipeline?: string; readonly 'external-cmd'?: string | undefined },
  args: readonly string[] = process.argv.slice(2),
): string | undefined {
  if (flagGiven('broker-url', args)) return '--mode sim runs its own in-memory broker: --broker-url is for live runs';
  if (a.pipeline === 'external' || a['external-cmd'] !== undefined)
    return '--mode sim cannot run an external pipeline yet (it needs a broker URL)';
  if (flagGiven('time-scale', args))
    return '--mode sim sleeps in full on its virtual clock: --time-scale is for live runs';
  return undefined;
}

/** The run's fault plan in sim mode: as live when `--faults` was given, else the mix's device and network faults
 *  (plus flags). */
export function simFaultPlan(
  mix: FaultMix,
  overrides: FaultOverrides,
  args: readonly string[] = process.argv.slice(2),
): FaultPlan {
  if (flagGiven('faults', args)) return buildFaultPlan(mix, overrides);
  return buildFaultPlan('none', {
    ...overrides,
    device: { ...faultMixes[mix].device, ...overrides.device },
    network: { ...faultMixes[mix].network, ...overrides.network },
  });
}
