// Small, fast, seeded pseudo-random generators for the firmware's *own* determinism (image bytes, seed
// forking). The firmware never calls Math.random: per-step randomness arrives through ctx.random
// (ARCHITECTURE.md §6, "one seed reproduces a run").

/** A 32-bit avalanche hash (murmur3 finaliser) of two 32-bit values: forks a stream seed from a parent seed. */
export function mixSeed(a: number, b: number): number {
  let h = (Math.imul(a | 0, 0x9e3779b1) ^ (b | 0)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32: a seeded generator of floats in [0, 1). Good enough for simulation, not for cryptography. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
