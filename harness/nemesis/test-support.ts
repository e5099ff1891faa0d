// Test-only: the fleet's test world (harness/fleet/test-support.ts: aedes + a scripted server, no Postgres) with the
// device faults put around every device, as a run does it (one DeviceFaultFilter per device on the fleet's Rng).
import { createRng } from '../../simulator/random/prng.ts';
import type { Fleet, FleetOptions } from '../fleet/fleet.ts';
import { TEST_FLEET_SEED, testFleet as plainTestFleet } from '../fleet/test-support.ts';
import type { History } from '../history/history.ts';
import { deviceFaultFilters } from './device-fault-filter.ts';
import { faultMixes, type DeviceFaults } from './fault-plan.ts';

// Re-exported so a device-fault test needs one import for its whole world.
export { startScriptedServer, startTestBroker, type ScriptedServer, type TestBroker } from '../fleet/test-support.ts';

/** `testFleet` of the fleet's test support, every device with the device faults `faults` (other rates 0). */
export function testFleet(
  brokerUrl: string,
  faults: Partial<DeviceFaults>,
  options: Partial<FleetOptions> = {},
): { fleet: Fleet; history: History } {
  const rng = options.rng ?? createRng(TEST_FLEET_SEED);
  const deviceFilter = deviceFaultFilters({ ...faultMixes.none.device, ...faults }, rng);
  return plainTestFleet(brokerUrl, { rng, deviceFilter, ...options });
}
