// Repair of replicated keys over in-memory stores (the double that passes the store
// contract suite): read repair, anti-entropy rounds (tombstones included, never replacing a
// newer write, a crashed round run again, two rounds at once), and reads that route around
// a slow replica. The same repair runs against DynamoDB through a real network fault in
// test/integration/store/region-failure.test.ts.
import { describe, expect, it } from 'vitest'
import { AntiEntropy } from './anti-entropy'
import { createKvService } from './create-kv-service'
import { FailureDetector } from './failure-detector'
import type { KvService, ReplicaHealth } from './kv-service'
import { MemoryRegionalStore } from './memory-regional-store'
import { MemoryRingConfigStore } from './memory-ring'
import type { RegionalStore, StoredItem } from './regional-store'

const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2']
const bytes = (text: string) => new TextEncoder().encode(text)
const text = (value: Uint8Array | undefined) => (value ? new TextDecoder().decode(value) : '')

/** A store that can be switched off (every call fails, as a region that doesn't answer). */
function switchable(store: RegionalStore) {
  const state = { down: false, copyInsLeft: Number.POSITIVE_INFINITY }
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const member = Reflect.get(target, property, receiver)
      if (typeof member !== 'function') return member
      return (...args: unknown[]) => {
        if (state.down) return Promise.reject(new Error('region down'))
        if (property === 'copyIn' && state.copyInsLeft-- <= 0)
          return Promise.reject(new Error('worker crashed'))
        return member.apply(target, args)
      }
    },
  })
  return { proxy, state }
}

function world(health?: ReplicaHealth) {
  const memory = Object.fromEntries(regions.map((region) => [region, new MemoryRegionalStore()]))
  const switches = Object.fromEntries(
    regions.map((region) => [region, switchable(memory[region]!)]),
  )
  const repaired: string[] = []
  const kv = createKvService({
    stores: Object.fromEntries(regions.map((region) => [region, switches[region]!.proxy])),
    ringStore: new MemoryRingConfigStore(),
    replication: { replicas: 3, writeQuorum: 2 },
    onRepair: (region) => repaired.push(region),
    // Repair at once in these tests; the grace period has its own test below.
    repairGraceMs: 0,
    ...(health && { health }),
  })
  return { memory, switches, kv, repaired }
}

/** Every replica's copy of every key, as [key, version, deleted, value] rows per region. */
async function tables(memory: Record<string, MemoryRegionalStore>) {
  const rows: Record<string, string[]> = {}
  for (const region of regions) {
    const items: StoredItem[] = []
    for await (const page of memory[region]!.scan(0, 1)) items.push(...page)
    rows[region] = items
      .map(
        (item) =>
          `${item.storageKey}@${item.version}${item.deleted ? ' deleted' : ''}=${text(item.value)}`,
      )
      .sort()
  }
  return rows
}

async function keyWithFirstReplica(kv: KvService, region: string): Promise<string> {
  for (let index = 0; ; index++) {
    const key = `k${index}`
    if ((await kv.replicaRegions(`default#${key}`))[0] === region) return key
  }
}

describe('read repair', () => {
  it('brings a lagging replica the read met up to date, in the background', async () => {
    const { memory, switches, kv, repaired } = world()
    const lagging = regions[0]!
    const key = await keyWithFirstReplica(kv, lagging)
    await kv.put('default', key, bytes('v1'))
    switches[lagging]!.state.down = true
    await kv.put('default', key, bytes('v2'))
    switches[lagging]!.state.down = false
    expect((await memory[lagging]!.get(`default#${key}`))?.version).toBe(1)

    // The read asks the first two replicas (the lagging one among them) and answers v2.
    expect(text((await kv.get('default', key)).value)).toBe('v2')
    await kv.repairsSettled()
    expect(repaired).toEqual([lagging])
    const copy = await memory[lagging]!.get(`default#${key}`)
    expect({ version: copy?.version, value: text(copy?.value) }).toEqual({
      version: 2,
      value: 'v2',
    })
    // Up to date now: a second read repairs nothing.
    await kv.get('default', key)
    await kv.repairsSettled()
    expect(repaired).toEqual([lagging])
  })
})

describe('anti-entropy', () => {
  /** Writes, updates and deletes while `region` is down, so its table misses them. */
  async function diverge(w: ReturnType<typeof world>, region: string, keys = 40) {
    for (let index = 0; index < keys; index++) await w.kv.put('default', `key-${index}`, bytes('a'))
    w.switches[region]!.state.down = true
    for (let index = 0; index < keys; index++) {
      if (index % 3 === 0) await w.kv.delete('default', `key-${index}`)
      else if (index % 3 === 1) await w.kv.put('default', `key-${index}`, bytes(`b${index}`))
      else await w.kv.put('default', `new-${index}`, bytes('c'))
    }
    w.switches[region]!.state.down = false
  }

  it('makes the replicas equal item by item, tombstones included, and then finds nothing to do', async () => {
    const w = world()
    await diverge(w, regions[1]!)
    const before = await tables(w.memory)
    expect(before[regions[1]!]).not.toEqual(before[regions[0]!])

    const repair = new AntiEntropy({ kv: w.kv, segments: 4, graceMs: 0 })
    const first = await repair.repairAll()
    // 40 keys missed: 14 deletes, 13 updates, 13 creates.
    expect(first).toMatchObject({ repaired: 40, failed: 0 })
    const after = await tables(w.memory)
    expect(after[regions[1]!]).toEqual(after[regions[0]!])
    expect(after[regions[2]!]).toEqual(after[regions[0]!])
    expect(after[regions[1]!]!.filter((row) => row.includes(' deleted'))).toHaveLength(14)

    expect(await repair.repairAll()).toMatchObject({ repaired: 0, failed: 0 })
  })

  it('never replaces a newer version: repairs racing a writer keep every acknowledged write', async () => {
    const w = world()
    await diverge(w, regions[2]!)
    const acknowledged = new Map<string, string>()
    const writer = (async () => {
      for (let round = 0; round < 5; round++) {
        for (let index = 0; index < 40; index += 2) {
          const value = `w${round}-${index}`
          await w.kv.put('default', `key-${index}`, bytes(value))
          acknowledged.set(`key-${index}`, value)
        }
      }
    })()
    const repair = new AntiEntropy({ kv: w.kv, segments: 4, concurrency: 2, graceMs: 0 })
    await Promise.all([writer, repair.repairAll()])
    await repair.repairAll()
    for (const [key, value] of acknowledged) {
      for (const region of regions) {
        expect(text((await w.memory[region]!.get(`default#${key}`))?.value)).toBe(value)
      }
    }
    const after = await tables(w.memory)
    expect(after[regions[2]!]).toEqual(after[regions[0]!])
  })

  it('finishes a range a crashed worker left half done, and two rounds at once write each copy once', async () => {
    const w = world()
    await diverge(w, regions[0]!)
    // The worker dies after five repairs: the rest of its range fails.
    w.switches[regions[0]!]!.state.copyInsLeft = 5
    const crashed = await new AntiEntropy({ kv: w.kv, segments: 2, graceMs: 0 }).repairAll()
    expect(crashed.repaired).toBe(5)
    expect(crashed.failed).toBeGreaterThan(0)
    w.switches[regions[0]!]!.state.copyInsLeft = Number.POSITIVE_INFINITY

    const rounds = await Promise.all([
      new AntiEntropy({ kv: w.kv, segments: 2, graceMs: 0 }).repairAll(),
      new AntiEntropy({ kv: w.kv, segments: 3, graceMs: 0 }).repairAll(),
    ])
    expect(rounds[0]!.repaired + rounds[1]!.repaired).toBe(40 - 5)
    expect(rounds[0]!.failed + rounds[1]!.failed).toBe(0)
    const after = await tables(w.memory)
    expect(after[regions[0]!]).toEqual(after[regions[1]!])
    expect(after[regions[2]!]).toEqual(after[regions[1]!])
  })

  it('does nothing with one replica per key', async () => {
    const kv = createKvService({
      stores: Object.fromEntries(regions.map((region) => [region, new MemoryRegionalStore()])),
      ringStore: new MemoryRingConfigStore(),
    })
    await kv.put('default', 'k', bytes('v'))
    expect(await new AntiEntropy({ kv }).repairAll()).toEqual({
      scanned: 0,
      keys: 0,
      repaired: 0,
      failed: 0,
      deferred: 0,
    })
  })

  it('leaves a version younger than the grace period to the next round (a write may be under way)', async () => {
    const w = world()
    await diverge(w, regions[1]!, 6)
    let now = Date.now()
    const repair = new AntiEntropy({ kv: w.kv, segments: 1, graceMs: 60_000, nowMs: () => now })
    const early = await repair.repairAll()
    expect(early).toMatchObject({ repaired: 0, failed: 0 })
    // Each lagging key is deferred once per replica that lists it: 4 updated or deleted
    // keys listed by all 3 replicas, 2 created ones by the 2 that have them.
    expect(early.deferred).toBe(4 * 3 + 2 * 2)
    now += 60_000
    expect(await repair.repairAll()).toMatchObject({ repaired: 6, deferred: 0 })
  })
})

describe('quorum reads and a slow replica', () => {
  /** A store whose reads take `delayMs` (a slow region), counting them. */
  function slow(store: RegionalStore, delayMs: number) {
    const counter = { reads: 0 }
    const proxy = new Proxy(store, {
      get(target, property, receiver) {
        const member = Reflect.get(target, property, receiver)
        if (typeof member !== 'function') return member
        return async (...args: unknown[]) => {
          if (property === 'get') counter.reads++
          await new Promise((resolve) => setTimeout(resolve, delayMs))
          return member.apply(target, args)
        }
      },
    })
    return { proxy, counter }
  }

  it('skips the replica the health view finds slow, and hedges when one turns slow unseen', async () => {
    const memory = Object.fromEntries(regions.map((region) => [region, new MemoryRegionalStore()]))
    const slowRegion = regions[0]!
    const slowStore = slow(memory[slowRegion]!, 1_000)
    const detector = new FailureDetector()
    const kv = createKvService({
      stores: { ...memory, [slowRegion]: slowStore.proxy },
      ringStore: new MemoryRingConfigStore(),
      replication: { replicas: 3, writeQuorum: 2 },
      health: detector,
    })
    const key = await keyWithFirstReplica(kv, slowRegion)
    await kv.put('default', key, bytes('v'))

    // Nothing known yet: the slow region is asked first, and after the hedge delay the
    // third replica is asked too, so the read takes about the hedge delay (100 ms before
    // any latency is known), not the slow region's 1 s.
    const started = performance.now()
    expect(text((await kv.get('default', key)).value)).toBe('v')
    expect(performance.now() - started).toBeLessThan(700)

    // Once the view knows the latencies, reads go to the two fast replicas only.
    for (const region of regions) detector.succeeded(region, region === slowRegion ? 1_000 : 2)
    const readsBefore = slowStore.counter.reads
    for (let index = 0; index < 5; index++) await kv.get('default', key)
    expect(slowStore.counter.reads).toBe(readsBefore)
  })
})
