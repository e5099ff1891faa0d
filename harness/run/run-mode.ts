// The two worlds a run can go through (ARCHITECTURE.md §2): live (a real broker, real time; a sample) and sim (one
// process, virtual time, the seeded scheduler; a function of the seed). Here, below the commands, because bundles
// and scenario specs record a mode too.
export type RunMode = 'live' | 'sim';
export const runModes: readonly RunMode[] = ['live', 'sim'];
