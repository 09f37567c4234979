// The KV service over in-memory regional stores (the double that runs the store contract
// suite) and an in-memory ring config store: replication, retries and routing rules that
// don't need DynamoDB to be shown.
import { describe, expect, it } from 'vitest'
import { createKvService } from './create-kv-service'
import { QuorumNotReachedError, RingVersionMismatchError, StaleFenceError } from './errors'
import type { Replication } from './kv-service'
import { MemoryRegionalStore } from './memory-regional-store'
import type { RegionalStore } from './regional-store'
import type { RingConfig, RingConfigStore, RingLayout } from './ring-config'

const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2']
const bytes = (text: string) => new TextEncoder().encode(text)
const text = (value: Uint8Array) => new TextDecoder().decode(value)

function memoryRingStore(): RingConfigStore {
  let stored: RingConfig | undefined
  return {
    load: async () => stored,
    replace: async (expectedVersion, layout: RingLayout) => {
      const actual = stored?.version
      if (
        (expectedVersion === 'absent' && actual !== undefined) ||
        (expectedVersion !== 'absent' && actual !== expectedVersion)
      ) {
        throw new RingVersionMismatchError(expectedVersion, actual)
      }
      stored = { ...layout, version: (actual ?? 0) + 1 }
      return stored
    },
  }
}

// Every call fails, as a region that does not answer.
const down = new Proxy({} as RegionalStore, {
  get: () => () => Promise.reject(new Error('region down')),
})

function service(replication: Replication, stores?: Record<string, RegionalStore>) {
  const memory = Object.fromEntries(regions.map((region) => [region, new MemoryRegionalStore()]))
  return {
    memory,
    kv: createKvService({
      stores: { ...memory, ...stores },
      ringStore: memoryRingStore(),
      replication,
    }),
  }
}

describe('KvService replication', () => {
  it('refuses a write quorum larger than the replication factor', () => {
    expect(() => service({ replicas: 2, writeQuorum: 3 })).toThrow(RangeError)
  })

  it('gives two concurrent unconditional writes distinct versions by retrying the loser', async () => {
    const { kv } = service({ replicas: 3, writeQuorum: 2 })
    const results = await Promise.all([
      kv.put('default', 'k', bytes('a')),
      kv.put('default', 'k', bytes('b')),
    ])
    expect(results.map((result) => result.version).sort()).toEqual([1, 2])
    expect((await kv.get('default', 'k')).version).toBe(2)
  })

  it('reads its own write with one region down (R=3, W=2) and fails with two down', async () => {
    const one = service({ replicas: 3, writeQuorum: 2 }, { [regions[0]!]: down }).kv
    await one.put('default', 'k', bytes('a'))
    expect(text((await one.get('default', 'k')).value)).toBe('a')
    const two = service(
      { replicas: 3, writeQuorum: 2 },
      { [regions[0]!]: down, [regions[1]!]: down },
    ).kv
    expect(await two.put('default', 'k', bytes('a')).catch((e) => e)).toBeInstanceOf(
      QuorumNotReachedError,
    )
  })

  it('reads R - W + 1 replicas, and one more for each that fails', async () => {
    const reads: string[] = []
    const counted = (region: string, store: RegionalStore): RegionalStore =>
      new Proxy(store, {
        get(target, property, receiver) {
          const member = Reflect.get(target, property, receiver)
          if (property !== 'get' || typeof member !== 'function') return member
          return (...args: unknown[]) => {
            reads.push(region)
            return member.apply(target, args)
          }
        },
      })
    const memory = Object.fromEntries(regions.map((region) => [region, new MemoryRegionalStore()]))
    const kv = createKvService({
      stores: Object.fromEntries(
        regions.map((region) => [region, counted(region, memory[region]!)]),
      ),
      ringStore: memoryRingStore(),
      replication: { replicas: 3, writeQuorum: 2 },
    })
    await kv.put('default', 'k', bytes('a'))
    reads.length = 0
    expect(text((await kv.get('default', 'k')).value)).toBe('a')
    expect(reads).toHaveLength(2)

    const withDown = createKvService({
      stores: {
        ...Object.fromEntries(regions.map((region) => [region, counted(region, memory[region]!)])),
        [regions[0]!]: counted(regions[0]!, down),
        [regions[1]!]: counted(regions[1]!, down),
      },
      ringStore: memoryRingStore(),
      replication: { replicas: 3, writeQuorum: 1 },
    })
    // R = 3, W = 1: all three must answer; two are down.
    reads.length = 0
    expect(await withDown.get('default', 'k').catch((e) => e)).toBeInstanceOf(QuorumNotReachedError)
    expect(reads).toHaveLength(3)
  })

  it('refuses a stale fence seen on the read quorum before writing any replica', async () => {
    const { kv, memory } = service({ replicas: 3, writeQuorum: 2 })
    await kv.put('default', 'k', bytes('a'), { fence: 9 })
    const failure = await kv.put('default', 'k', bytes('b'), { fence: 3 }).catch((e) => e)
    expect(failure).toBeInstanceOf(StaleFenceError)
    for (const store of Object.values(memory)) {
      expect((await store.get('default#k'))?.version ?? 1).toBe(1)
    }
  })

  it('routes every key to exactly one region with R=1', async () => {
    const { kv, memory } = service({ replicas: 1, writeQuorum: 1 })
    for (let index = 0; index < 30; index++) await kv.put('default', `k${index}`, bytes('x'))
    for (let index = 0; index < 30; index++) {
      const holders = await Promise.all(
        Object.values(memory).map((store) => store.get(`default#k${index}`)),
      )
      expect(holders.filter(Boolean)).toHaveLength(1)
    }
  })
})
