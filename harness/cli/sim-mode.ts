// `npm run simulate -- --mode sim` (issue 8 "Sim mode"): what the switch changes on the command line. The run is
// runSim (harness/run/sim-run.ts); here only the flags it cannot honour yet (refused, exit 2, one line) and the
// default fault mix, whose network faults sim cannot inject yet: unless `--faults` is given, sim takes the mix's
// device faults only (its server faults too could run in sim now, but the default stays as it was, so sim runs and
// sweeps keep their histories and speed), and the faults line says so.
import {
  buildFaultPlan,
  faultMixes,
  type FaultMix,
  type FaultOverrides,
  type FaultPlan,
} from '../nemesis/fault-plan.ts';

export type RunMode = 'live' | 'sim';
export const runModes: readonly RunMode[] = ['live', 'sim'];

const given = (flag: string, args: readonly string[]) =>
  args.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));

/** Why these flags cannot run in sim mode, or undefined. `args`: the command line (default this process's). */
export function simModeProblem(
  a: { readonly pipeline?: string; readonly 'external-cmd'?: string | undefined },
  args: readonly string[] = process.argv.slice(2),
): string | undefined {
  if (given('broker-url', args)) return '--mode sim runs its own in-memory broker: --broker-url is for live runs';
  if (a.pipeline === 'external' || a['external-cmd'] !== undefined)
    return '--mode sim cannot run an external pipeline yet (it needs a broker URL)';
  if (given('time-scale', args)) return '--mode sim sleeps in full on its virtual clock: --time-scale is for live runs';
  return undefined;
}

/** The run's fault plan in sim mode: as live when `--faults` was given, else the mix's device faults (plus flags). */
export function simFaultPlan(
  mix: FaultMix,
  overrides: FaultOverrides,
  args: readonly string[] = process.argv.slice(2),
): FaultPlan {
  if (given('faults', args)) return buildFaultPlan(mix, overrides);
  return buildFaultPlan('none', { ...overrides, device: { ...faultMixes[mix].device, ...overrides.device } });
}
