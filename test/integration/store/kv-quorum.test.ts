import { QuorumNotReachedError, VersionMismatchError } from '@meridian/store'
import { describe, expect, it } from 'vitest'
import { kvService, rawItem, regionalStore, regionalStores, regions } from './support'

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (value: Uint8Array) => new TextDecoder().decode(value)
const replicated = { replicas: 3, writeQuorum: 2 }

// A store whose table does not exist: every call fails, like a region that is down.
function withBrokenRegion(broken: string[]) {
  const stores = regionalStores()
  for (const region of broken)
    stores[region] = regionalStore(region, `missing-${crypto.randomUUID()}`)
  return stores
}

describe('replication R=3, W=2', () => {
  it('writes every replica and reads the highest version', async () => {
    const service = kvService({ replication: replicated })
    const key = `quorum-${crypto.randomUUID()}`
    expect(await service.put('default', key, bytes('a'))).toEqual({ version: 1, created: true })
    expect(await service.put('default', key, bytes('b'), { expectedVersion: 1 })).toEqual({
      version: 2,
      created: false,
    })
    const { owners, storageKey } = await service.owners('default', key)
    expect(new Set(owners.map((owner) => owner.region))).toEqual(new Set(regions))
    for (const region of regions) {
      // The third replica may still be in flight when W=2 answered.
      await expect.poll(async () => (await rawItem(region, storageKey))?.version?.N).toBe('2')
    }
    const item = await service.get('default', key)
    expect(item.version).toBe(2)
    expect(text(item.value)).toBe('b')
  })

  it('succeeds with one replica store failing, and the read still sees the write', async () => {
    const key = `quorum-down-${crypto.randomUUID()}`
    const service = kvService({ replication: replicated, stores: withBrokenRegion([regions[0]!]) })
    expect(await service.put('default', key, bytes('a'))).toMatchObject({ version: 1 })
    expect(await service.put('default', key, bytes('b'))).toMatchObject({ version: 2 })
    expect(text((await service.get('default', key)).value)).toBe('b')
    expect(await service.delete('default', key, { expectedVersion: 2 })).toMatchObject({
      version: 3,
    })
  })

  it('fails with QuorumNotReachedError when two replica stores fail', async () => {
    const key = `quorum-two-down-${crypto.randomUUID()}`
    const service = kvService({
      replication: replicated,
      stores: withBrokenRegion(regions.slice(0, 2)),
    })
    const failure = await service.put('default', key, bytes('a')).catch((e) => e)
    expect(failure).toBeInstanceOf(QuorumNotReachedError)
    // Its first step, the read of R - W + 1 = 2 replicas, already fails.
    expect(failure).toMatchObject({ required: 2 })
    expect(failure.succeeded).toBeLessThan(2)
    expect(await service.get('default', key).catch((e) => e)).toBeInstanceOf(QuorumNotReachedError)
  })

  it('brings a replica that missed writes up to date on the next write', async () => {
    const key = `quorum-lag-${crypto.randomUUID()}`
    const healthy = kvService({ replication: replicated })
    const { storageKey, owners } = await healthy.owners('default', key)
    const lagging = owners[2]!.region
    const partial = kvService({ replication: replicated, stores: withBrokenRegion([lagging]) })
    await partial.put('default', key, bytes('a'))
    await partial.put('default', key, bytes('b'))
    expect(await rawItem(lagging, storageKey)).toBeUndefined()
    expect(await healthy.put('default', key, bytes('c'), { expectedVersion: 2 })).toMatchObject({
      version: 3,
    })
    await expect.poll(async () => (await rawItem(lagging, storageKey))?.version?.N).toBe('3')
  })

  it('refuses a compare-and-swap on a stale version before writing any replica', async () => {
    const key = `quorum-cas-${crypto.randomUUID()}`
    const service = kvService({ replication: replicated })
    await service.put('default', key, bytes('a'))
    await service.put('default', key, bytes('b'))
    const failure = await service
      .put('default', key, bytes('c'), { expectedVersion: 1 })
      .catch((e) => e)
    expect(failure).toBeInstanceOf(VersionMismatchError)
    expect(failure).toMatchObject({ expectedVersion: 1, actualVersion: 2 })
    expect((await service.get('default', key)).version).toBe(2)
  })
})
