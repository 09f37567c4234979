// A region that stops answering, through a real network fault: one region's DynamoDB
// traffic goes through a fault proxy that blackholes it. The failure detector suspects the
// region within about two seconds; then R = 1 keys there get a fast RegionUnavailableError
// (the API's 503 region-unavailable) while other regions keep serving, and with R = 3,
// W = 2 writes and reads keep succeeding without it, losing nothing. After the fault heals,
// a probe lets traffic through and the region is trusted again.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import {
  createKvService,
  DynamoRegionalStore,
  detectingStore,
  FailureDetector,
  type KvService,
  type RegionalStore,
  RegionUnavailableError,
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
  proxy: FaultProxy
  detector: FailureDetector
  failing: string
  /** Calls requests started on the failing region's store (the detector's probes aside). */
  started: () => number
}

/** Three regions on fresh tables; the first one's traffic goes through a fault proxy. */
async function world(replication: { replicas: number; writeQuorum: number }): Promise<World> {
  const direct = await isolatedRegionalStores()
  const failing = regions[0]!
  const proxy = await FaultProxy.start({ target: process.env.AWS_ENDPOINT_URL_DYNAMODB! })
  cleanups.push(() => proxy.close())
  const client = new DynamoDBClient({
    endpoint: proxy.endpoint,
    region: failing,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 300, requestTimeout: 300, throwOnRequestTimeout: true },
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
  const kv = createKvService({ stores, ringStore: ringConfigStore(), replication })
  return { kv, proxy, detector, failing, started: () => started }
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
