import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  compareCodePoints,
  idLengthMax,
  type RingConfig,
  resolveRingConfig,
  ringDefaults,
  vnodeCountOf,
  vnodeTotalMax,
} from './config.ts'
import { RingConfigError, type RingConfigReason, RingError } from './errors.ts'
import { Ring, ringFromConfig } from './ring.ts'
import { nodesArbitrary, parametersArbitrary, sampleKeys } from './testing-arbitraries.ts'

const validConfig: RingConfig = {
  version: 4,
  nodes: [
    { id: 'a', region: 'us-east-1', zone: 'use1-az1', weight: 2 },
    { id: 'b', region: 'eu-west-1' },
  ],
}

function rejection(config: unknown): RingConfigError {
  try {
    resolveRingConfig(config)
  } catch (error) {
    if (error instanceof RingConfigError) return error
    throw error
  }
  throw new Error('the config was accepted')
}

describe('ring config', () => {
  it('round-trips through JSON and routes every key the same way', () => {
    fc.assert(
      fc.property(
        nodesArbitrary(1, 10),
        parametersArbitrary,
        fc.nat(),
        (nodes, parameters, version) => {
          const ring = new Ring({ version, nodes, ...parameters })
          const copy = ringFromConfig(JSON.parse(JSON.stringify(ring.toConfig())))
          expect(copy.toConfig()).toEqual(ring.toConfig())
          const keys = sampleKeys(200, version)
          expect(keys.map((key) => copy.lookup(key).id)).toEqual(
            keys.map((key) => ring.lookup(key).id),
          )
        },
      ),
      { numRuns: 30 },
    )
  })

  it('writes the defaults out explicitly', () => {
    expect(resolveRingConfig(validConfig)).toEqual({
      version: 4,
      nodes: [
        { id: 'a', region: 'us-east-1', zone: 'use1-az1', weight: 2 },
        { id: 'b', region: 'eu-west-1', weight: 1 },
      ],
      vnodesPerWeight: ringDefaults.vnodesPerWeight,
      probeCount: ringDefaults.probeCount,
    })
  })

  it('gives a node max(1, round(weight × vnodesPerWeight)) vnodes', () => {
    expect(vnodeCountOf(1, 256)).toBe(256)
    expect(vnodeCountOf(1.5, 3)).toBe(5)
    expect(vnodeCountOf(0.001, 256)).toBe(1)
  })

  const badConfigs: [string, unknown, RingConfigReason, string][] = [
    ['a non-object', 'ring', 'not-an-object', ''],
    ['null', null, 'not-an-object', ''],
    ['an unknown field', { ...validConfig, vnodes: 3 }, 'unknown-field', 'vnodes'],
    ['a negative version', { ...validConfig, version: -1 }, 'invalid-version', 'version'],
    ['a fractional version', { ...validConfig, version: 1.5 }, 'invalid-version', 'version'],
    ['a missing version', { nodes: validConfig.nodes }, 'invalid-version', 'version'],
    ['nodes that are not an array', { version: 1, nodes: {} }, 'invalid-nodes', 'nodes'],
    ['no nodes', { version: 1, nodes: [] }, 'no-nodes', 'nodes'],
    ['a node that is not an object', { version: 1, nodes: [7] }, 'invalid-nodes', 'nodes[0]'],
    ['an empty id', { version: 1, nodes: [{ id: '', region: 'r' }] }, 'invalid-id', 'nodes[0].id'],
    ['a numeric id', { version: 1, nodes: [{ id: 5, region: 'r' }] }, 'invalid-id', 'nodes[0].id'],
    [
      'an id that is too long',
      { version: 1, nodes: [{ id: 'x'.repeat(idLengthMax + 1), region: 'r' }] },
      'invalid-id',
      'nodes[0].id',
    ],
    [
      'an id with a lone surrogate',
      { version: 1, nodes: [{ id: 'a\ud800', region: 'r' }] },
      'invalid-id',
      'nodes[0].id',
    ],
    [
      'duplicate ids',
      {
        version: 1,
        nodes: [
          { id: 'a', region: 'r' },
          { id: 'b', region: 'r' },
          { id: 'a', region: 's' },
        ],
      },
      'duplicate-id',
      'nodes[2].id',
    ],
    ['a missing region', { version: 1, nodes: [{ id: 'a' }] }, 'invalid-region', 'nodes[0].region'],
    [
      'an empty zone',
      { version: 1, nodes: [{ id: 'a', region: 'r', zone: '' }] },
      'invalid-zone',
      'nodes[0].zone',
    ],
    [
      'a null zone',
      { version: 1, nodes: [{ id: 'a', region: 'r', zone: null }] },
      'invalid-zone',
      'nodes[0].zone',
    ],
    [
      'a zero weight',
      { version: 1, nodes: [{ id: 'a', region: 'r', weight: 0 }] },
      'invalid-weight',
      'nodes[0].weight',
    ],
    [
      'a negative weight',
      { version: 1, nodes: [{ id: 'a', region: 'r', weight: -1 }] },
      'invalid-weight',
      'nodes[0].weight',
    ],
    [
      'a NaN weight',
      { version: 1, nodes: [{ id: 'a', region: 'r', weight: Number.NaN }] },
      'invalid-weight',
      'nodes[0].weight',
    ],
    [
      'an infinite weight',
      { version: 1, nodes: [{ id: 'a', region: 'r', weight: Number.POSITIVE_INFINITY }] },
      'invalid-weight',
      'nodes[0].weight',
    ],
    [
      'a string weight',
      { version: 1, nodes: [{ id: 'a', region: 'r', weight: '2' }] },
      'invalid-weight',
      'nodes[0].weight',
    ],
    [
      'an unknown node field',
      { version: 1, nodes: [{ id: 'a', region: 'r', rack: 'x' }] },
      'unknown-field',
      'nodes[0].rack',
    ],
    [
      'zero vnodes per weight',
      { ...validConfig, vnodesPerWeight: 0 },
      'invalid-vnodes-per-weight',
      'vnodesPerWeight',
    ],
    [
      'fractional vnodes per weight',
      { ...validConfig, vnodesPerWeight: 2.5 },
      'invalid-vnodes-per-weight',
      'vnodesPerWeight',
    ],
    ['zero probes', { ...validConfig, probeCount: 0 }, 'invalid-probe-count', 'probeCount'],
    ['too many probes', { ...validConfig, probeCount: 17 }, 'invalid-probe-count', 'probeCount'],
    [
      'weights needing too many vnodes',
      { version: 1, nodes: [{ id: 'a', region: 'r', weight: vnodeTotalMax }] },
      'too-many-vnodes',
      'nodes',
    ],
  ]

  it.each(badConfigs)('rejects %s with a RingConfigError', (_, config, reason, path) => {
    const error = rejection(config)
    expect(error).toBeInstanceOf(RingError)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('RingConfigError')
    expect(error.reason).toBe(reason)
    expect(error.path).toBe(path)
    expect(() => ringFromConfig(config)).toThrow(RingConfigError)
  })

  it('rejects any node whose weight is not a positive finite number', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ max: 0 }),
          fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, null, '1', true),
        ),
        (weight) => {
          const error = rejection({ version: 1, nodes: [{ id: 'a', region: 'r', weight }] })
          expect(error.reason).toBe('invalid-weight')
        },
      ),
    )
  })
})

describe('compareCodePoints', () => {
  it('orders strings like their UTF-8 bytes', () => {
    const encoder = new TextEncoder()
    const compareBytes = (left: string, right: string) => {
      const a = encoder.encode(left)
      const b = encoder.encode(right)
      for (let index = 0; index < Math.min(a.length, b.length); index++) {
        if (a[index] !== b[index]) return a[index]! - b[index]!
      }
      return a.length - b.length
    }
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (left, right) => {
        expect(Math.sign(compareCodePoints(left, right))).toBe(Math.sign(compareBytes(left, right)))
      }),
      { numRuns: 1000 },
    )
  })
})
