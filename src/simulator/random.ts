/** A source of numbers in [0, 1), like `Math.random`. */
export type Random = () => number;

/**
 * A small seeded generator (mulberry32), so that a simulation's plan (which jobs fail, which events
 * are sent twice or out of order) can be replayed with `mh simulate --seed`.
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** True with probability `p`. */
export const chance = (random: Random, p: number): boolean => random() < p;

/** A whole number from `min` to `max`, both included. */
export const between = (random: Random, min: number, max: number): number => min + Math.floor(random() * (max - min + 1));

/** One of `items`. */
export const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];
