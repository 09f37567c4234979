import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Ring } from './ring.ts'
import { configOf, nodesArbitrary, parametersArbitrary, sampleKeys } from './testing-arbitraries.ts'

const loadFactorArbitrary = fc.double({ min: 1, max: 2, noNaN: true })

function capacityOf(
  ring: Ring,
  id: string,
  loads: ReadonlyMap<string, number>,
  loadFactor: number,
) {
  const totalLoad = [...loads.values()].reduce((sum, load) => sum + load, 0)
  const totalWeight = ring.nodes.reduce((sum, node) => sum + node.weight, 0)
  return Math.ceil((loadFactor * (totalLoad + 1) * ring.node(id)!.weight) / totalWeight)
}

describe('Ring.lookupBounded', () => {
  it('never places a key above its node’s cap while whole-number loads allow it', () => {
    fc.assert(
      fc.property(
        nodesArbitrary(1, 8),
        parametersArbitrary,
        loadFactorArbitrary,
        fc.array(fc.nat({ max: 50 }), { minLength: 8, maxLength: 8 }),
        (nodes, parameters, loadFactor, counts) => {
          const ring = new Ring(configOf(nodes, parameters))
          const loads = new Map(ring.nodes.map((node, index) => [node.id, counts[index]!]))
          for (const key of sampleKeys(20, counts[0]!)) {
            const { node, withinCapacity } = ring.lookupBounded(key, loads, loadFactor)
            expect(withinCapacity).toBe(true)
            expect(loads.get(node.id)! + 1).toBeLessThanOrEqual(
              capacityOf(ring, node.id, loads, loadFactor),
            )
          }
        },
      ),
      { numRuns: 30 },
    )
  })

  it('keeps every node within the cap when keys are placed one after another', () => {
    fc.assert(
      fc.property(
        nodesArbitrary(2, 8),
        parametersArbitrary,
        loadFactorArbitrary,
        (nodes, parameters, loadFactor) => {
          const ring = new Ring(configOf(nodes, parameters))
          const loads = new Map(ring.nodes.map((node) => [node.id, 0]))
          const totalWeight = ring.nodes.reduce((sum, node) => sum + node.weight, 0)
          const keys = sampleKeys(400, nodes.length)
          for (const key of keys) {
            const { node } = ring.lookupBounded(key, loads, loadFactor)
            loads.set(node.id, loads.get(node.id)! + 1)
          }
          for (const node of ring.nodes) {
            const cap = Math.ceil((loadFactor * keys.length * node.weight) / totalWeight)
            expect(loads.get(node.id)!).toBeLessThanOrEqual(cap)
          }
        },
      ),
      { numRuns: 30 },
    )
  })

  it('picks the plain owner when no node is loaded', () => {
    const ring = new Ring({
      version: 1,
      nodes: [
        { id: 'a', region: 'r' },
        { id: 'b', region: 'r' },
        { id: 'c', region: 'r' },
      ],
    })
    for (const key of sampleKeys(50, 3)) {
      expect(ring.lookupBounded(key, new Map())).toEqual({
        node: ring.lookup(key),
        withinCapacity: true,
      })
    }
  })

  it('skips a full owner for the next node in the key’s order of preference', () => {
    const ring = new Ring({
      version: 1,
      nodes: [
        { id: 'a', region: 'r' },
        { id: 'b', region: 'r' },
        { id: 'c', region: 'r' },
      ],
    })
    for (const key of sampleKeys(50, 4)) {
      const [owner, next] = ring.preferenceList(key, 2)
      const result = ring.lookupBounded(key, new Map([[owner!.id, 10]]), 1.25)
      expect(result).toEqual({ node: next, withinCapacity: true })
    }
  })

  it('falls back without throwing when no node can take the key', () => {
    const ring = new Ring({
      version: 1,
      nodes: [
        { id: 'a', region: 'r' },
        { id: 'b', region: 'r' },
      ],
    })
    const key = 'user:42'
    const everyNodeFull = new Map([
      ['a', Number.POSITIVE_INFINITY],
      ['b', Number.NaN],
    ])
    expect(ring.lookupBounded(key, everyNodeFull)).toEqual({
      node: ring.lookup(key),
      withinCapacity: false,
    })
    // Fractional loads: with the key, each node would hold 2.5, over its cap of ceil(1 × 4 / 2) = 2.
    const fractional = new Map([
      ['a', 1.5],
      ['b', 1.5],
    ])
    const result = ring.lookupBounded(key, fractional, 1)
    expect(result.withinCapacity).toBe(false)
    expect(['a', 'b']).toContain(result.node.id)
    const oneUsable = new Map([
      ['a', -5],
      ['b', 3],
    ])
    expect(ring.lookupBounded(key, oneUsable, 1)).toEqual({
      node: ring.node('b'),
      withinCapacity: false,
    })
  })

  it('ignores loads for ids that are not in the ring', () => {
    const ring = new Ring({ version: 1, nodes: [{ id: 'a', region: 'r' }] })
    expect(ring.lookupBounded('k', new Map([['ghost', 1e9]]))).toEqual({
      node: ring.node('a'),
      withinCapacity: true,
    })
  })

  it('rejects a load factor below 1 or not finite', () => {
    const ring = new Ring({ version: 1, nodes: [{ id: 'a', region: 'r' }] })
    expect(() => ring.lookupBounded('k', new Map(), 0.5)).toThrow(RangeError)
    expect(() => ring.lookupBounded('k', new Map(), Number.POSITIVE_INFINITY)).toThrow(RangeError)
  })
})
