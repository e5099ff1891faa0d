// The run's device identities: the MACs its Fleet draws (the run's seed, forks 'fleet' then 'macs'), known before
// the fleet exists — a shard's pipeline subscribes to its own devices' topics; tests name devices by index.
import { createRng } from '../../simulator/random/prng.ts';
import { fleetMacs } from '../fleet/fleet.ts';
import { devicesSimulated, type LiveRunOptions } from './run-options.ts';

/** The MACs of the run's whole fleet. */
export function runMacs(options: Pick<LiveRunOptions, 'seed' | 'devices'>): string[] {
  return fleetMacs(createRng(options.seed).fork('fleet').fork('macs'), options.devices);
}

/** The MACs this process simulates: the whole fleet's, or a shard's slice. */
export function simulatedMacs(options: Pick<LiveRunOptions, 'seed' | 'devices' | 'shard'>): string[] {
  const { from, to } = devicesSimulated(options);
  return runMacs(options).slice(from, to);
}
