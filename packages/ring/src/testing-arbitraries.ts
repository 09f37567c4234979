/**
 * fast-check arbitraries shared by the ring's property tests: node sets with varied ids,
 * regions, zones and weights, and ring parameters small enough to build hundreds of rings in a
 * test run (properties other than balance do not depend on the vnode count).
 */
import { seededUint32 } from '@meridian/seeded-random'
import fc from 'fast-check'
import type { RingConfig, RingNodeConfig } from './config.ts'

export const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'sa-east-1'] as const
export const zones = ['a', 'b', 'c'] as const

/** Mostly ASCII ids, sometimes with multi-byte and astral characters, never empty. */
export const nodeIdArbitrary: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }) },
)

export const weightArbitrary: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(1) },
  { weight: 2, arbitrary: fc.constantFrom(0.5, 1.5, 2, 3) },
  { weight: 1, arbitrary: fc.double({ min: 0.25, max: 4, noNaN: true }) },
)

export function nodeArbitrary(id: string): fc.Arbitrary<RingNodeConfig> {
  return fc
    .record({
      region: fc.constantFrom(...regions),
      zone: fc.option(fc.constantFrom(...zones), { nil: undefined }),
      weight: weightArbitrary,
    })
    .map(({ region, zone, weight }) =>
      zone === undefined ? { id, region, weight } : { id, region, zone, weight },
    )
}

export function nodesArbitrary(minLength: number, maxLength: number) {
  return fc
    .uniqueArray(nodeIdArbitrary, { minLength, maxLength })
    .chain((ids) => fc.tuple(...ids.map(nodeArbitrary)))
}

/** Ring parameters that keep builds in the low milliseconds. */
export const parametersArbitrary = fc.record({
  vnodesPerWeight: fc.integer({ min: 8, max: 48 }),
  probeCount: fc.integer({ min: 1, max: 16 }),
})

export function configOf(
  nodes: readonly RingNodeConfig[],
  parameters: { vnodesPerWeight: number; probeCount: number },
  version = 1,
): RingConfig {
  return { version, nodes, ...parameters }
}

/** Keys shaped like real ones, plus arbitrary Unicode. */
export const keyArbitrary: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 0, max: 9_999_999 }).map((id) => `user:${id}`),
  fc.string({ unit: 'grapheme', maxLength: 16 }),
)

/** Deterministic pseudo-random keys for checks over many keys (mulberry32). */
export function sampleKeys(count: number, seed: number): string[] {
  const next = seededUint32(seed)
  return Array.from({ length: count }, () => `key:${next()}`)
}
