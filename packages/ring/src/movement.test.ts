import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { keyPosition, positionCount } from './hash.ts'
import { type MovementPlan, movementPlan, ownershipShares } from './movement.ts'
import { buildRanges } from './range-table.ts'
import { Ring } from './ring.ts'
import { configOf, nodesArbitrary, parametersArbitrary, sampleKeys } from './testing-arbitraries.ts'

/** The plan's range holding `position`, found by binary search. */
function rangeAt(plan: MovementPlan, position: number) {
  let low = 0
  let high = plan.ranges.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (plan.ranges[middle]!.end < position) low = middle + 1
    else high = middle
  }
  const range = plan.ranges[low]
  return range && range.start <= position ? range : undefined
}

/** Sorted, disjoint, inside the ring, never from a node to itself, merged where adjacent. */
function expectWellFormed(plan: MovementPlan): void {
  const problems: string[] = []
  let previous: MovementPlan['ranges'][number] | undefined
  let total = 0
  for (const range of plan.ranges) {
    const label = `[${range.start}, ${range.end}] ${range.from}->${range.to}`
    if (previous && range.start <= previous.end) problems.push(`${label} overlaps or is unsorted`)
    if (range.end < range.start || range.start < 0 || range.end >= positionCount) {
      problems.push(`${label} is not a range inside the ring`)
    }
    if (range.from === range.to) problems.push(`${label} moves nothing`)
    if (
      previous &&
      previous.end + 1 === range.start &&
      previous.from === range.from &&
      previous.to === range.to
    ) {
      problems.push(`${label} should have merged with the range before it`)
    }
    total += range.end - range.start + 1
    previous = range
  }
  expect(problems).toEqual([])
  expect(plan.movedFraction).toBeCloseTo(total / positionCount, 12)
  const transferred = plan.transfers.reduce((sum, transfer) => sum + transfer.fraction, 0)
  expect(transferred).toBeCloseTo(plan.movedFraction, 12)
}

const changeArbitrary = fc.record({
  nodes: nodesArbitrary(2, 9),
  parameters: parametersArbitrary,
  change: fc.constantFrom('join', 'leave', 'reweight', 'reshuffle', 'reparameterize'),
  weight: fc.double({ min: 0.2, max: 4, noNaN: true }),
  newParameters: parametersArbitrary,
})

describe('movementPlan', () => {
  const keys = sampleKeys(1000, 11)

  it('agrees with per-key lookups before and after the change', () => {
    fc.assert(
      fc.property(changeArbitrary, ({ nodes, parameters, change, weight, newParameters }) => {
        const [first, ...rest] = nodes
        const beforeNodes = change === 'join' ? rest : nodes
        const afterNodes =
          change === 'join'
            ? nodes
            : change === 'leave'
              ? rest
              : change === 'reweight'
                ? [{ ...first!, weight }, ...rest]
                : [...rest, first!]
        const before = new Ring(configOf(beforeNodes, parameters))
        const afterParameters = change === 'reparameterize' ? newParameters : parameters
        const after = new Ring(configOf(afterNodes, afterParameters, 2))
        const plan = movementPlan(before, after)
        expectWellFormed(plan)
        // Collected and compared once: an expect per key made this test ten times slower.
        const disagreements: string[] = []
        for (const key of keys) {
          const from = before.lookup(key).id
          const to = after.lookup(key).id
          const range = rangeAt(plan, keyPosition(key))
          const planned = range ? `${range.from}->${range.to}` : 'stays'
          const actual = from === to ? 'stays' : `${from}->${to}`
          if (planned !== actual) disagreements.push(`${key}: plan ${planned}, lookups ${actual}`)
        }
        expect(disagreements).toEqual([])
        if (change === 'reshuffle') expect(plan.ranges).toEqual([])
      }),
      { numRuns: 25 },
    )
  })

  it('sends a joining node exactly its share, and nothing between other nodes', () => {
    fc.assert(
      fc.property(nodesArbitrary(2, 10), parametersArbitrary, (nodes, parameters) => {
        const [joining, ...rest] = nodes
        const before = new Ring(configOf(rest, parameters))
        const after = new Ring(configOf(nodes, parameters, 2))
        const plan = movementPlan(before, after)
        expect(plan.ranges.every((range) => range.to === joining!.id)).toBe(true)
        expect(plan.movedFraction).toBeCloseTo(ownershipShares(after).get(joining!.id)!, 12)
      }),
      { numRuns: 25 },
    )
  })

  it('moves close to the ideal fraction when an 11th node joins, by default', () => {
    fc.assert(
      fc.property(nodesArbitrary(11, 11), (nodes) => {
        const equal = nodes.map((node) => ({ ...node, weight: 1 }))
        const before = new Ring({ version: 1, nodes: equal.slice(1) })
        const after = new Ring({ version: 2, nodes: equal })
        const ideal = 1 / 11
        expect(Math.abs(movementPlan(before, after).movedFraction / ideal - 1)).toBeLessThan(0.08)
      }),
      { numRuns: 8 },
    )
  })

  it('moves only the leaving node’s ranges, each to some remaining node', () => {
    fc.assert(
      fc.property(nodesArbitrary(2, 10), parametersArbitrary, (nodes, parameters) => {
        const [leaving, ...rest] = nodes
        const before = new Ring(configOf(nodes, parameters))
        const after = new Ring(configOf(rest, parameters, 2))
        const plan = movementPlan(before, after)
        expect(plan.ranges.every((range) => range.from === leaving!.id)).toBe(true)
        expect(plan.movedFraction).toBeCloseTo(ownershipShares(before).get(leaving!.id)!, 12)
      }),
      { numRuns: 25 },
    )
  })

  it('is empty between a ring and itself', () => {
    const ring = new Ring({
      version: 1,
      nodes: [
        { id: 'a', region: 'r' },
        { id: 'b', region: 'r' },
      ],
    })
    expect(movementPlan(ring, ring)).toEqual({ ranges: [], movedFraction: 0, transfers: [] })
  })

  it('covers the whole space when every node is replaced', () => {
    const before = new Ring({ version: 1, nodes: [{ id: 'a', region: 'r' }] })
    const after = new Ring({ version: 2, nodes: [{ id: 'b', region: 'r' }] })
    expect(movementPlan(before, after)).toEqual({
      ranges: [{ start: 0, end: positionCount - 1, from: 'a', to: 'b' }],
      movedFraction: 1,
      transfers: [{ from: 'a', to: 'b', fraction: 1 }],
    })
  })
})

describe('ownershipShares', () => {
  it('sums to 1 over every node of the ring', () => {
    fc.assert(
      fc.property(nodesArbitrary(1, 10), parametersArbitrary, (nodes, parameters) => {
        const ring = new Ring(configOf(nodes, parameters))
        const shares = ownershipShares(ring)
        expect([...shares.keys()].sort()).toEqual(ring.nodes.map((node) => node.id).sort())
        expect([...shares.values()].reduce((sum, share) => sum + share, 0)).toBeCloseTo(1, 12)
      }),
      { numRuns: 25 },
    )
  })
})

describe('plans for rings too large to keep a range table', () => {
  const nodes = Array.from({ length: 21 }, (_, index) => ({ id: `node-${index}`, region: 'r' }))
  const parameters = { vnodesPerWeight: 1024, probeCount: 16 }
  const before = new Ring(configOf(nodes.slice(1), parameters))
  const after = new Ring(configOf(nodes, parameters, 2))

  it('computes the same shares block by block as from a full range table', () => {
    expect(before.ranges).toBeUndefined()
    const ranges = buildRanges(before.table)
    const expected = new Float64Array(before.nodesByIndex.length)
    let start = 0
    for (let index = 0; index < ranges.ends.length; index++) {
      expected[ranges.owners[index]!]! += ranges.ends[index]! - start + 1
      start = ranges.ends[index]! + 1
    }
    const shares = ownershipShares(before)
    before.nodesByIndex.forEach((node, index) => {
      expect(shares.get(node.id)).toBe(expected[index]! / positionCount)
    })
  })

  it('moves only keys to the joining node, as per-key lookups say', () => {
    const plan = movementPlan(before, after)
    expect(plan.ranges.every((range) => range.to === 'node-0')).toBe(true)
    const keys = sampleKeys(2000, 3)
    const disagreements = keys.filter((key) => {
      const moved = before.lookup(key).id !== after.lookup(key).id
      return moved !== (rangeAt(plan, keyPosition(key)) !== undefined)
    })
    expect(disagreements).toEqual([])
  })
})
