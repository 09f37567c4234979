// A region that stops answering, through a real network fault: one region's DynamoDB
// traffic goes through a fault proxy that blackholes it. The failure detector suspects the
// region within about two seconds; then R = 1 keys there get a fast RegionUnavailableError
// (the API's 503 region-unavailable) while other regions keep serving, and with R = 3,
// W = 2 writes and reads keep succeeding without it, losing nothing. After the fault heals,
// a probe lets traffic through and the region is trusted again.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import {
  AntiEntropy,
  createKvService,
  DynamoRegionalStore,
  detectingStore,
  FailureDetector,
  type KvService,
  type RegionalStore,
  RegionUnavailableError,
  type StoredItem,
} from '@meridian/store'
import { afterAll, describe, expect, it } from 'vitest'
import { FaultProxy } from '../../support/fault-proxy'
import { isolatedRegionalStores, regions, ringConfigStore } from './support'

const text = new TextEncoder()
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const cleanups: Array<() => Promise<void> | void> = []
afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

interface World {
  kv: KvService
  direct: Record<string, DynamoRegionalStore>
  proxy: FaultProxy
  detector: FailureDetector
  failing: string
  /** Calls requests started on the failing region's store (the detector's probes aside). */
  started: () => number
}

/** Three regions on fresh tables; the first one's traffic goes through a fault proxy. */
async function world(
  replication: { replicas: number; writeQuorum: number },
  timeoutMs = 300,
): Promise<World> {
  const direct = await isolatedRegionalStores()
  const failing = regions[0]!
  const proxy = await FaultProxy.start({ target: process.env.AWS_ENDPOINT_URL_DYNAMODB! })
  cleanups.push(() => proxy.close())
  const client = new DynamoDBClient({
    endpoint: proxy.endpoint,
    region: failing,
    maxAttempts: 2,
    requestHandler: {
      connectionTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      throwOnRequestTimeout: true,
    },
  })
  cleanups.push(() => client.destroy())
  const detector = new FailureDetector({ probeIntervalMs: 300 })
  let started = 0
  const counted = (store: RegionalStore) =>
    new Proxy(store, {
      get(target, property, receiver) {
        const member = Reflect.get(target, property, receiver)
        if (typeof member !== 'function') return member
        return (...args: unknown[]) => {
          if (!(property === 'get' && args[0] === '!probe')) started++
          return member.apply(target, args)
        }
      },
    })
  const stores: Record<string, RegionalStore> = {}
  for (const region of regions) {
    const store =
      region === failing
        ? counted(new DynamoRegionalStore({ client, tableName: direct[region]!.tableName }))
        : direct[region]!
    stores[region] = detectingStore(region, store, detector)
  }
  const kv = createKvService({
    stores,
    ringStore: ringConfigStore(),
    replication,
    health: detector,
  })
  return { kv, direct, proxy, detector, failing, started: () => started }
}

/** Keys whose first owner is `region` (and some that aren't), under the service's ring. */
async function keysOwnedBy(kv: KvService, region: string, count: number) {
  const owned: string[] = []
  const others: string[] = []
  for (let index = 0; owned.length < count || others.length < count; index++) {
    const key = `region-failure-${index}`
    const { owners } = await kv.owners('default', key)
    ;(owners[0]!.region === region ? owned : others).push(key)
  }
  return { owned: owned.slice(0, count), others: others.slice(0, count) }
}

async function suspectedWithin(world: World, call: () => Promise<unknown>, limitMs: number) {
  const started = performance.now()
  while (world.detector.view(world.failing).state !== 'suspected') {
    if (performance.now() - started > limitMs) throw new Error('not suspected in time')
    await call().catch(() => undefined)
  }
  return performance.now() - started
}

describe('a region that stops answering', () => {
  it('is suspected within about 2 s; its R = 1 keys fail fast, the rest keep serving; it heals', async () => {
    const w = await world({ replicas: 1, writeQuorum: 1 })
    const { owned, others } = await keysOwnedBy(w.kv, w.failing, 3)
    for (const key of [...owned, ...others]) await w.kv.put('default', key, text.encode('v1'))

    w.proxy.setMode('blackhole')
    const detectionMs = await suspectedWithin(w, () => w.kv.get('default', owned[0]!), 4_000)
    expect(detectionMs).toBeLessThan(3_000)
    const view = w.detector.view(w.failing)
    expect(view).toMatchObject({ state: 'suspected' })
    expect(view.lastError).toBeDefined()

    // While suspected: an answer at once, naming the region, with a retry hint.
    const started = performance.now()
    const refused = await w.kv.get('default', owned[1]!).catch((error) => error)
    // No call is made (no 2 × 300 ms timeout): the detector answers.
    expect(performance.now() - started).toBeLessThan(250)
    expect(refused).toBeInstanceOf(RegionUnavailableError)
    expect(refused).toMatchObject({ region: w.failing })
    for (const key of others) expect(decode((await w.kv.get('default', key)).value)).toBe('v1')

    // Healed: the next probe goes through and the region is trusted again.
    w.proxy.setMode('forward')
    const deadline = performance.now() + 5_000
    let read: string | undefined
    while (read === undefined && performance.now() < deadline) {
      read = await w.kv
        .get('default', owned[0]!)
        .then((item) => decode(item.value))
        .catch(async () => {
          await new Promise((resolve) => setTimeout(resolve, 100))
          return undefined
        })
    }
    expect(read).toBe('v1')
    expect(w.detector.view(w.failing).state).toBe('trusted')
  })

  it('keeps R = 3, W = 2 writes and reads going without it, losing no acknowledged write', async () => {
    const w = await world({ replicas: 3, writeQuorum: 2 })
    const keys = Array.from({ length: 6 }, (_, index) => `quorum-${index}`)
    const acknowledged = new Map<string, number>()
    const write = async (key: string, value: number) => {
      await w.kv.put('default', key, text.encode(String(value)))
      acknowledged.set(key, value)
    }
    for (const key of keys) await write(key, 0)

    w.proxy.setMode('blackhole')
    await suspectedWithin(w, () => write(keys[0]!, 1), 4_000)
    // Past the detection window every write and read succeeds without the region: no
    // request goes to it (only the detector's background probes do).
    const startedBefore = w.started()
    for (let round = 2; round < 6; round++) {
      for (const key of keys) {
        await write(key, round)
        expect(decode((await w.kv.get('default', key)).value)).toBe(String(round))
      }
    }
    expect(w.started() - startedBefore).toBe(0)
    w.proxy.setMode('forward')
    for (const [key, value] of acknowledged) {
      expect(decode((await w.kv.get('default', key)).value)).toBe(String(value))
    }
  })
})

/** Every copy in a region's table as `key@version[ deleted]=value`, sorted. */
async function tableRows(store: RegionalStore, segment = 0, segments = 1): Promise<string[]> {
  const items: StoredItem[] = []
  for await (const page of store.scan(segment, segments)) items.push(...page)
  return items
    .map(
      (item) =>
        `${item.storageKey}@${item.version}${item.deleted ? ' deleted' : ''}=${item.value ? decode(item.value) : ''}`,
    )
    .sort()
}

async function untilTrusted(w: World, limitMs: number) {
  const deadline = performance.now() + limitMs
  while (w.detector.view(w.failing).state !== 'trusted') {
    if (performance.now() > deadline)
      throw new Error(`not trusted again in time: ${JSON.stringify(w.detector.view(w.failing))}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('repair after a region comes back', () => {
  it('anti-entropy makes the three tables equal item by item, with a workload running through the fault', async () => {
    const w = await world({ replicas: 3, writeQuorum: 2 })
    const acknowledged = new Map<string, string>()
    let stop = false
    let writes = 0
    // Four writers, each on its own keys: puts and deletes (tombstones), as fast as they go.
    const writers = Array.from({ length: 4 }, async (_, writer) => {
      for (let step = 0; !stop; step++) {
        const key = `workload-${writer}-${step % 10}`
        if (step % 7 === 6 && acknowledged.get(key) !== undefined) {
          await w.kv.delete('default', key)
          acknowledged.set(key, '')
        } else {
          const value = `${writer}.${step}`
          await w.kv.put('default', key, text.encode(value))
          acknowledged.set(key, value)
        }
        writes++
      }
    })
    await new Promise((resolve) => setTimeout(resolve, 300))
    w.proxy.setMode('blackhole')
    await suspectedWithin(w, () => new Promise((resolve) => setTimeout(resolve, 20)), 4_000)
    const writesBefore = writes
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    expect(writes).toBeGreaterThan(writesBefore)
    w.proxy.setMode('forward')
    await untilTrusted(w, 15_000)
    stop = true
    await Promise.all(writers)
    await w.kv.repairsSettled()

    // The healed region missed what was written while it was out.
    const healthy = regions.find((region) => region !== w.failing)!
    expect(await tableRows(w.direct[w.failing]!)).not.toEqual(await tableRows(w.direct[healthy]!))
    const repaired = await new AntiEntropy({ kv: w.kv, segments: 4, graceMs: 0 }).repairAll()
    expect(repaired.repaired).toBeGreaterThan(0)
    expect(repaired.failed).toBe(0)
    const rows = await Promise.all(regions.map((region) => tableRows(w.direct[region]!)))
    expect(rows[1]).toEqual(rows[0])
    expect(rows[2]).toEqual(rows[0])
    // And every acknowledged write is what reads return.
    for (const [key, value] of acknowledged) {
      const read = await w.kv.get('default', key).then(
        (item) => decode(item.value),
        () => '',
      )
      expect(read).toBe(value)
    }
  })
})

describe('a slow region', () => {
  it('does not hold up operations a quorum of the other regions can answer', async () => {
    // Timeouts well above the delay: the region is slow, not failing.
    const w = await world({ replicas: 3, writeQuorum: 2 }, 5_000)
    const keys = Array.from({ length: 8 }, (_, index) => `slow-${index}`)
    for (const key of keys) await w.kv.put('default', key, text.encode('0'))
    // 800 ms more per round trip to one region: any operation that waited on it would show.
    w.proxy.setRoundTrip(800)
    const latencies: number[] = []
    for (let round = 1; round <= 6; round++) {
      for (const key of keys) {
        const started = performance.now()
        await w.kv.put('default', key, text.encode(String(round)))
        expect(decode((await w.kv.get('default', key)).value)).toBe(String(round))
        latencies.push(performance.now() - started)
      }
    }
    // Writes wait for two acknowledgements of three; reads ask the two fast regions once the
    // detector has seen the slow one, and hedge to a third replica before that.
    const slowest = Math.max(...latencies.slice(8))
    expect(slowest).toBeLessThan(600)
    expect(w.detector.view(w.failing).state).toBe('trusted')
    w.proxy.setRoundTrip(0)
  })
})
