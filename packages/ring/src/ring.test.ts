import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { vnodeCountOf } from './config.ts'
import { keyPosition, positionCount } from './hash.ts'
import { ownershipShares } from './movement.ts'
import { buildRanges, rangeOwnerAt } from './range-table.ts'
import { Ring, ringFromConfig } from './ring.ts'
import { ownerIndexAt } from './ring-table.ts'
import {
  configOf,
  keyArbitrary,
  nodesArbitrary,
  parametersArbitrary,
  sampleKeys,
} from './testing-arbitraries.ts'
import { vnodePosition, vnodeSeedOf } from './vnode.ts'

const positionArbitrary = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })

describe('Ring lookups', () => {
  it('gives the same owner for every key whatever order the nodes were listed in', () => {
    fc.assert(
      fc.property(
        nodesArbitrary(1, 12).chain((nodes) =>
          fc.tuple(fc.constant(nodes), fc.shuffledSubarray(nodes, { minLength: nodes.length })),
        ),
        parametersArbitrary,
        fc.array(keyArbitrary, { minLength: 20, maxLength: 20 }),
        ([nodes, shuffled], parameters, keys) => {
          const ring = new Ring(configOf(nodes, parameters))
          const reordered = new Ring(configOf(shuffled, parameters))
          expect(reordered.table.positions).toEqual(ring.table.positions)
          expect(reordered.table.owners).toEqual(ring.table.owners)
          expect(keys.map((key) => reordered.lookup(key).id)).toEqual(
            keys.map((key) => ring.lookup(key).id),
          )
        },
      ),
      { numRuns: 30 },
    )
  })

  it('answers the same from the range table as from probing, at any position', () => {
    fc.assert(
      fc.property(
        nodesArbitrary(1, 10),
        parametersArbitrary,
        fc.array(positionArbitrary, { minLength: 200, maxLength: 200 }),
        (nodes, parameters, positions) => {
          const ring = new Ring(configOf(nodes, parameters))
          const ranges = ring.ranges ?? buildRanges(ring.table)
          const edges = [0, positionCount - 1, ...Array.from(ranges.ends.subarray(0, 50))]
          const probes = [...positions, ...edges, ...edges.map((end) => end + 1)].filter(
            (position) => position < positionCount,
          )
          expect(probes.map((position) => rangeOwnerAt(ranges, position))).toEqual(
            probes.map((position) => ownerIndexAt(ring.table, position)),
          )
        },
      ),
      { numRuns: 30 },
    )
  })

  it('builds the same ranges when a block holds hundreds of vnodes', () => {
    const nodes = Array.from({ length: 12 }, (_, index) => ({ id: `n${index}`, region: 'r' }))
    const ring = new Ring({ version: 1, nodes, vnodesPerWeight: 2048, probeCount: 16 })
    const ranges = buildRanges(ring.table)
    const positions = fc.sample(positionArbitrary, { numRuns: 3000, seed: 5 })
    const probes = [...positions, ...Array.from(ranges.ends.subarray(0, 500))]
    expect(probes.map((position) => rangeOwnerAt(ranges, position))).toEqual(
      probes.map((position) => ownerIndexAt(ring.table, position)),
    )
  })

  it('routes a key to the node that owns its position', () => {
    fc.assert(
      fc.property(
        nodesArbitrary(1, 8),
        parametersArbitrary,
        fc.array(keyArbitrary),
        (nodes, parameters, keys) => {
          const ring = new Ring(configOf(nodes, parameters))
          expect(keys.map((key) => ring.lookup(key))).toEqual(
            keys.map((key) => ring.nodeAt(keyPosition(key))),
          )
        },
      ),
      { numRuns: 30 },
    )
  })

  it('keeps every node and its weight, and breaks position ties by id', () => {
    const ring = new Ring({
      version: 3,
      nodes: [
        { id: 'b', region: 'r1' },
        { id: 'a', region: 'r1', zone: 'z', weight: 2 },
      ],
    })
    expect(ring.nodes.map((node) => node.id)).toEqual(['b', 'a'])
    expect(ring.nodesByIndex.map((node) => node.id)).toEqual(['a', 'b'])
    expect(ring.node('a')).toEqual({ id: 'a', region: 'r1', zone: 'z', weight: 2 })
    expect(ring.node('c')).toBeUndefined()
    expect(ring.version).toBe(3)
  })

  it('sorts ids by code point, so astral characters come after U+E000–U+FFFF', () => {
    const ring = new Ring({
      version: 1,
      nodes: [
        { id: '😀', region: 'r' },
        { id: '\uff21', region: 'r' },
        { id: 'a', region: 'r' },
      ],
    })
    expect(ring.nodesByIndex.map((node) => node.id)).toEqual(['a', '\uff21', '😀'])
  })

  it('rejects positions outside the ring', () => {
    const ring = ringFromConfig({ version: 1, nodes: [{ id: 'a', region: 'r' }] })
    expect(() => ring.nodeAt(-1)).toThrow(RangeError)
    expect(() => ring.nodeAt(positionCount)).toThrow(RangeError)
    expect(() => ring.nodeAt(1.5)).toThrow(RangeError)
    expect(ring.nodeAt(positionCount - 1).id).toBe('a')
  })

  it('works with a single vnode in the whole ring', () => {
    const single = new Ring({ version: 1, nodes: [{ id: 'a', region: 'r' }], vnodesPerWeight: 1 })
    const pair = new Ring({
      version: 2,
      nodes: [
        { id: 'a', region: 'r' },
        { id: 'b', region: 'r' },
      ],
      vnodesPerWeight: 1,
    })
    expect(single.table.positions).toHaveLength(1)
    expect(single.lookup('k').id).toBe('a')
    expect(single.nodeAt(0).id).toBe('a')
    expect(single.nodeAt(positionCount - 1).id).toBe('a')
    const shares = ownershipShares(pair)
    expect(shares.get('a')! + shares.get('b')!).toBeCloseTo(1, 12)
    expect(
      pair
        .preferenceList('k', 5)
        .map((node) => node.id)
        .sort(),
    ).toEqual(['a', 'b'])
  })

  it('routes every key of a one-node ring to that node', () => {
    const ring = ringFromConfig({ version: 1, nodes: [{ id: 'only', region: 'r', weight: 0.01 }] })
    expect(new Set(sampleKeys(100, 1).map((key) => ring.lookup(key).id))).toEqual(new Set(['only']))
  })
})

describe('Ring balance with the default parameters', () => {
  it('keeps the busiest of 10 equal nodes within 8% of the mean share', () => {
    fc.assert(
      fc.property(nodesArbitrary(10, 10), (nodes) => {
        const equal = nodes.map((node) => ({ ...node, weight: 1 }))
        const shares = ownershipShares(new Ring({ version: 1, nodes: equal }))
        expect(Math.max(...shares.values()) * 10).toBeLessThan(1.08)
      }),
      { numRuns: 15 },
    )
  })

  it('gives weighted nodes shares proportional to their weights', () => {
    fc.assert(
      fc.property(nodesArbitrary(3, 8), (nodes) => {
        const ring = new Ring({ version: 1, nodes })
        const totalWeight = ring.nodes.reduce((sum, node) => sum + node.weight, 0)
        for (const [id, share] of ownershipShares(ring)) {
          const expected = ring.node(id)!.weight / totalWeight
          // The relative error shrinks with the node's vnode count: ~9% at weight 0.25.
          expect(Math.abs(share / expected - 1)).toBeLessThan(
            0.12 / Math.sqrt(ring.node(id)!.weight),
          )
        }
      }),
      { numRuns: 10 },
    )
  })
})

describe('Ring key movement, key by key', () => {
  const keys = sampleKeys(3000, 7)

  it('moves keys only to a node that joins', () => {
    fc.assert(
      fc.property(nodesArbitrary(2, 10), parametersArbitrary, (nodes, parameters) => {
        const [joining, ...rest] = nodes
        const before = new Ring(configOf(rest, parameters))
        const after = new Ring(configOf(nodes, parameters, 2))
        const movedElsewhere = keys.filter((key) => {
          const owner = after.lookup(key).id
          return owner !== before.lookup(key).id && owner !== joining!.id
        })
        expect(movedElsewhere).toEqual([])
      }),
      { numRuns: 25 },
    )
  })

  it('moves only the keys of a node that leaves', () => {
    fc.assert(
      fc.property(nodesArbitrary(2, 10), parametersArbitrary, (nodes, parameters) => {
        const [leaving, ...rest] = nodes
        const before = new Ring(configOf(nodes, parameters))
        const after = new Ring(configOf(rest, parameters, 2))
        const movedFromOthers = keys.filter((key) => {
          const owner = before.lookup(key).id
          return owner !== after.lookup(key).id && owner !== leaving!.id
        })
        expect(movedFromOthers).toEqual([])
      }),
      { numRuns: 25 },
    )
  })

  it('moves keys only to or from a node whose weight changes', () => {
    fc.assert(
      fc.property(
        nodesArbitrary(2, 10),
        parametersArbitrary,
        fc.double({ min: 0.1, max: 5, noNaN: true }),
        (nodes, parameters, newWeight) => {
          const changed = nodes[0]!.id
          const reweighted = nodes.map((node) =>
            node.id === changed ? { ...node, weight: newWeight } : node,
          )
          const before = new Ring(configOf(nodes, parameters))
          const after = new Ring(configOf(reweighted, parameters, 2))
          const movedBetweenOthers = keys.filter((key) => {
            const from = before.lookup(key).id
            const to = after.lookup(key).id
            return from !== to && from !== changed && to !== changed
          })
          expect(movedBetweenOthers).toEqual([])
        },
      ),
      { numRuns: 25 },
    )
  })
})

describe('the vnode table', () => {
  it('holds exactly the vnode positions of every node, sorted, ties by id', () => {
    fc.assert(
      fc.property(nodesArbitrary(1, 8), parametersArbitrary, (nodes, parameters) => {
        const ring = new Ring(configOf(nodes, parameters))
        const expected = ring.nodesByIndex
          .flatMap((node, owner) =>
            Array.from({ length: vnodeCountOf(node.weight, ring.vnodesPerWeight) }, (_, index) => ({
              position: vnodePosition(vnodeSeedOf(node.id), index),
              owner,
            })),
          )
          .sort((left, right) => left.position - right.position || left.owner - right.owner)
        expect(Array.from(ring.table.positions)).toEqual(expected.map((vnode) => vnode.position))
        expect(Array.from(ring.table.owners)).toEqual(expected.map((vnode) => vnode.owner))
      }),
      { numRuns: 30 },
    )
  })
})
