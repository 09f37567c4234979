import {
  DynamoRingConfigStore,
  InvalidRingConfigError,
  RingCache,
  type RingConfig,
  RingVersionMismatchError,
  ringRouterFactory as routerFactory,
} from '@meridian/store'
import { describe, expect, it } from 'vitest'
import { kvService, regions, ringConfigStore } from './support'

const initial = { nodes: regions.map((region) => ({ id: region, region, weight: 1 })) }

describe('ring config in the coordination table', () => {
  it('stores the first config at version 1 and refuses a second create', async () => {
    const store = ringConfigStore()
    expect(await store.load()).toBeUndefined()
    expect(await store.replace('absent', initial)).toEqual({ ...initial, version: 1 })
    const failure = await store.replace('absent', initial).catch((e) => e)
    expect(failure).toBeInstanceOf(RingVersionMismatchError)
    expect(failure).toMatchObject({ expectedVersion: 'absent', actualVersion: 1 })
  })

  it('changes only by a conditional write on the expected version', async () => {
    const store = ringConfigStore()
    await store.replace('absent', initial)
    const heavier = { nodes: initial.nodes.map((node) => ({ ...node, weight: 2 })) }
    expect(await store.replace(1, heavier)).toMatchObject({ version: 2 })
    const failure = await store.replace(1, initial).catch((e) => e)
    expect(failure).toBeInstanceOf(RingVersionMismatchError)
    expect(failure).toMatchObject({ expectedVersion: 1, actualVersion: 2 })
    expect(await store.load()).toEqual({ ...heavier, version: 2 })
  })

  it('starts a fresh deployment with one node per configured store region', async () => {
    const service = kvService()
    expect(await service.ringConfig()).toMatchObject({
      version: 1,
      nodes: regions.map((region) => ({ id: region, region, weight: 1 })),
    })
  })

  it('refuses a ring that names a region without a store, or too few regions for R', async () => {
    const service = kvService({ replication: { replicas: 3, writeQuorum: 2 } })
    await service.ringConfig()
    const unknown = { nodes: [{ id: 'x', region: 'sa-east-1', weight: 1 }] }
    expect(() => service.ringCache.check(unknown)).toThrow(InvalidRingConfigError)
    const twoRegions = { nodes: initial.nodes.slice(0, 2) }
    expect(() => service.ringCache.check(twoRegions)).toThrow(InvalidRingConfigError)
    expect((await service.ringConfig()).version).toBe(1)
  })

  it('serves a cached ring for at most the staleness bound, then reloads', async () => {
    let nowMs = 1_000_000
    const store = ringConfigStore()
    let loads = 0
    const counting = {
      load: () => {
        loads++
        return store.load()
      },
      replace: store.replace.bind(store),
    }
    const cache = new RingCache({
      store: counting,
      routerFactory,
      initialConfig: initial,
      stalenessMs: 5_000,
      nowMs: () => nowMs,
    })
    expect((await cache.current()).config.version).toBe(1)
    // Another handler replaces the ring behind this cache's back.
    await store.replace(1, { nodes: initial.nodes.slice(0, 2) })
    nowMs += 4_999
    expect((await cache.current()).config.version).toBe(1)
    nowMs += 1
    expect((await cache.current()).config).toMatchObject({
      version: 2,
      nodes: initial.nodes.slice(0, 2),
    })
    const loadsBefore = loads
    // Concurrent callers after expiry share one load.
    nowMs += 5_000
    await Promise.all([cache.current(), cache.current(), cache.current()])
    expect(loads).toBe(loadsBefore + 1)
  })

  it('takes its own replacement at once, and two handlers creating the first ring agree', async () => {
    const store = ringConfigStore()
    const [first, second] = [0, 1].map(
      () => new RingCache({ store, routerFactory, initialConfig: initial, stalenessMs: 60_000 }),
    ) as [RingCache, RingCache]
    const [a, b] = await Promise.all([first.current(), second.current()])
    expect(a.config).toEqual(b.config)
    const replaced: RingConfig = await first.replace(1, { nodes: initial.nodes.slice(1) })
    expect((await first.current()).config).toEqual(replaced)
    expect(store).toBeInstanceOf(DynamoRingConfigStore)
  })
})
