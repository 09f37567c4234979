/**
 * One seeded pseudo-random generator (mulberry32) for everything that must replay from a
 * seed: the lock and transaction simulations, the chaos tests, test data sets and bench
 * keys. Tiny and fast; not for anything secret.
 */

/** A generator of 32-bit unsigned integers from `seed`: the same seed, the same sequence. */
export function seededUint32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let mixed = Math.imul(state ^ (state >>> 15), state | 1)
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61)
    return (mixed ^ (mixed >>> 14)) >>> 0
  }
}

/** A generator of numbers in [0, 1) from `seed`: the same seed, the same sequence. */
export function seededRandom(seed: number): () => number {
  const next = seededUint32(seed)
  return () => next() / 4_294_967_296
}
