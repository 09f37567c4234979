import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { RingNode } from './config.ts'
import { Ring } from './ring.ts'
import {
  configOf,
  keyArbitrary,
  nodesArbitrary,
  parametersArbitrary,
} from './testing-arbitraries.ts'

const zoneKey = (node: RingNode) => `${node.region}/${node.zone ?? ''}`
const distinctCount = (values: readonly string[]) => new Set(values).size

const scenarioArbitrary = fc.record({
  nodes: nodesArbitrary(1, 12),
  parameters: parametersArbitrary,
  keys: fc.array(keyArbitrary, { minLength: 5, maxLength: 5 }),
  replicaCount: fc.integer({ min: 0, max: 14 }),
})

describe('Ring.preferenceList', () => {
  it('returns min(n, nodes) distinct nodes, the owner first', () => {
    fc.assert(
      fc.property(scenarioArbitrary, ({ nodes, parameters, keys, replicaCount }) => {
        const ring = new Ring(configOf(nodes, parameters))
        for (const key of keys) {
          const replicas = ring.preferenceList(key, replicaCount)
          expect(replicas).toHaveLength(Math.min(replicaCount, nodes.length))
          expect(distinctCount(replicas.map((node) => node.id))).toBe(replicas.length)
          if (replicaCount > 0) expect(replicas[0]).toBe(ring.lookup(key))
        }
      }),
      { numRuns: 30 },
    )
  })

  it('spans as many regions as it can, then as many zones', () => {
    fc.assert(
      fc.property(scenarioArbitrary, ({ nodes, parameters, keys, replicaCount }) => {
        const ring = new Ring(configOf(nodes, parameters))
        const regionCount = distinctCount(ring.nodes.map((node) => node.region))
        const zoneCount = distinctCount(ring.nodes.map(zoneKey))
        for (const key of keys) {
          const replicas = ring.preferenceList(key, replicaCount)
          expect(distinctCount(replicas.map((node) => node.region))).toBe(
            Math.min(replicas.length, regionCount),
          )
          expect(distinctCount(replicas.map(zoneKey))).toBe(Math.min(replicas.length, zoneCount))
        }
      }),
      { numRuns: 30 },
    )
  })

  it('returns every node when asked for more replicas than there are nodes', () => {
    fc.assert(
      fc.property(
        nodesArbitrary(1, 8),
        parametersArbitrary,
        keyArbitrary,
        (nodes, parameters, key) => {
          const ring = new Ring(configOf(nodes, parameters))
          const everyId = nodes.map((node) => node.id).sort()
          for (const replicaCount of [nodes.length, nodes.length + 5, Number.POSITIVE_INFINITY]) {
            const replicas = ring.preferenceList(key, replicaCount)
            expect(replicas.map((node) => node.id).sort()).toEqual(everyId)
          }
        },
      ),
      { numRuns: 30 },
    )
  })

  it('only inserts a joining node into a list that needs no spreading', () => {
    fc.assert(
      fc.property(
        nodesArbitrary(2, 10),
        parametersArbitrary,
        keyArbitrary,
        (nodes, parameters, key) => {
          const sameDomain = nodes.map((node) => ({
            id: node.id,
            region: 'r',
            weight: node.weight,
          }))
          const [joining, ...rest] = sameDomain
          const before = new Ring(configOf(rest, parameters)).preferenceList(key, rest.length)
          const after = new Ring(configOf(sameDomain, parameters)).preferenceList(
            key,
            sameDomain.length,
          )
          expect(after.map((node) => node.id).filter((id) => id !== joining!.id)).toEqual(
            before.map((node) => node.id),
          )
        },
      ),
      { numRuns: 30 },
    )
  })

  it('returns an empty list for zero replicas and rejects invalid counts', () => {
    const ring = new Ring({ version: 1, nodes: [{ id: 'a', region: 'r' }] })
    expect(ring.preferenceList('k', 0)).toEqual([])
    expect(() => ring.preferenceList('k', -1)).toThrow(RangeError)
    expect(() => ring.preferenceList('k', 1.5)).toThrow(RangeError)
    expect(() => ring.preferenceList('k', Number.NaN)).toThrow(RangeError)
  })

  it('puts replicas in three regions before using a second zone of any region', () => {
    const ring = new Ring({
      version: 1,
      nodes: [
        { id: 'use1-a', region: 'us-east-1', zone: 'a' },
        { id: 'use1-b', region: 'us-east-1', zone: 'b' },
        { id: 'use1-c', region: 'us-east-1', zone: 'c' },
        { id: 'euw1-a', region: 'eu-west-1', zone: 'a' },
        { id: 'euw1-b', region: 'eu-west-1', zone: 'b' },
        { id: 'apse2-a', region: 'ap-southeast-2', zone: 'a' },
      ],
    })
    for (let index = 0; index < 200; index++) {
      const replicas = ring.preferenceList(`key-${index}`, 4)
      expect(new Set(replicas.slice(0, 3).map((node) => node.region)).size).toBe(3)
      expect(new Set(replicas.map(zoneKey)).size).toBe(4)
    }
  })
})
