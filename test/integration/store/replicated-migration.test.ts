// Ring changes with R > 1 on DynamoDB Local: blind writers (one per key: R > 1 promises
// last-writer-wins, not CAS) and readers on a fresh handler and on one whose ring is up to
// 200 ms stale run through a drain and an add, with every range task delivered twice. No
// read misses or goes behind an acknowledged write; afterwards every key is on a write
// quorum of its final replicas at its last acknowledged value, and nowhere else.

import {
  KeyNotFoundError,
  type KvService,
  layoutOf,
  QuorumNotReachedError,
  RingChangingError,
  type RingConfig,
  type RingLayout,
  replicaNodesOf,
  ringRouterFactory,
} from '@meridian/store'
import { describe, expect, it } from 'vitest'
import { type MigratingRing, migratingRing, regions } from './support'

const encode = (value: number) => new TextEncoder().encode(String(value))
const decode = (bytes: Uint8Array) => Number(new TextDecoder().decode(bytes))

/** Each writer owns its keys and writes increasing numbers; readers check a floor. */
function runWorkload(handlers: KvService[], keys: string[], writers = 4) {
  const acknowledged = new Map<string, number>(keys.map((key) => [key, 0]))
  const errors: unknown[] = []
  const counts = { writes: 0, reads: 0 }
  let running = true
  const writer = async (index: number) => {
    const mine = keys.filter((_, position) => position % writers === index)
    for (let step = 1; running; step++) {
      const kv = handlers[step % handlers.length]!
      const key = mine[step % mine.length]!
      const value = (acknowledged.get(key) ?? 0) + 1
      try {
        await kv.put('default', key, encode(value))
        acknowledged.set(key, value)
        counts.writes++
      } catch (error) {
        if (!(error instanceof RingChangingError || error instanceof QuorumNotReachedError))
          errors.push(error)
      }
    }
  }
  const reader = async (index: number) => {
    for (let step = index; running; step++) {
      const kv = handlers[step % handlers.length]!
      const key = keys[(step * 7) % keys.length]!
      const floor = acknowledged.get(key) ?? 0
      try {
        const value = decode((await kv.get('default', key)).value)
        counts.reads++
        if (value < floor) errors.push(new Error(`${key} read ${value} after ${floor}`))
      } catch (error) {
        if (!(error instanceof RingChangingError)) errors.push(error)
      }
    }
  }
  const done = Promise.all([
    ...Array.from({ length: writers }, (_, index) => writer(index)),
    ...Array.from({ length: 2 }, (_, index) => reader(index)),
  ])
  return {
    async stop() {
      running = false
      await done
      return { acknowledged, errors, counts }
    },
  }
}

async function change(ring: MigratingRing, layout: (current: RingConfig) => RingLayout) {
  const current = await ring.ringStore.load()
  if (!current) throw new Error('no ring')
  await ring.migrations.begin(current.version, layout(current))
  await new Promise((resolve) => setTimeout(resolve, 300))
  await ring.inbox.drain(ring.migrations, 2)
  expect((await ring.migrations.status()).state).toBe('stable')
}

/** Every region's copies, by storage key. */
async function copiesByKey(ring: MigratingRing): Promise<Map<string, Map<string, number>>> {
  const copies = new Map<string, Map<string, number>>()
  for (const [region, store] of Object.entries(ring.stores)) {
    for await (const page of store.scan(0, 1)) {
      for (const item of page) {
        const held = copies.get(item.storageKey) ?? new Map<string, number>()
        held.set(region, item.value ? decode(item.value) : Number.NaN)
        copies.set(item.storageKey, held)
      }
    }
  }
  return copies
}

async function expectPlaced(ring: MigratingRing, acknowledged: Map<string, number>, w: number) {
  const config = await ring.ringStore.load()
  const router = ringRouterFactory(config!)
  const copies = await copiesByKey(ring)
  for (const [key, value] of acknowledged) {
    const storageKey = `default#${key}`
    const owners = replicaNodesOf(router, storageKey, 2, regions.length).map((node) => node.region)
    const held = copies.get(storageKey) ?? new Map()
    expect(
      [...held.keys()].filter((region) => !owners.includes(region)),
      key,
    ).toEqual([])
    const current = [...held.values()].filter((copy) => copy >= value)
    expect(current.length, `${key} at ${value}`).toBeGreaterThanOrEqual(w)
    expect(decode((await ring.kv.get('default', key)).value), key).toBe(value)
  }
}

describe('ring migration with R > 1 on DynamoDB Local', () => {
  for (const writeQuorum of [1, 2]) {
    it(`drains a region and adds it back at weight 2 with R = 2, W = ${writeQuorum}, losing nothing`, async () => {
      const replication = { replicas: 2, writeQuorum }
      const ring = await migratingRing({ ringStalenessMs: 200, replication })
      const keys = Array.from({ length: 40 }, (_, index) => `replicated-${index}`)
      await Promise.all(keys.map((key) => ring.kv.put('default', key, encode(0))))
      const stale = ring.handler({ ringStalenessMs: 200, replication })
      const workload = runWorkload([ring.kv, stale], keys)
      const drained = regions[0]!

      await change(ring, (current) => ({
        ...layoutOf(current),
        nodes: current.nodes.filter((node) => node.region !== drained),
      }))
      const afterDrain = await copiesByKey(ring)
      expect([...afterDrain.values()].some((held) => held.has(drained))).toBe(false)

      await change(ring, (current) => ({
        ...layoutOf(current),
        nodes: [...current.nodes, { id: `${drained}-back`, region: drained, weight: 2 }],
      }))
      const { acknowledged, errors, counts } = await workload.stop()
      expect(errors).toEqual([])
      // The workload ran through both changes (floors low enough for a loaded CI machine).
      expect(counts.writes).toBeGreaterThan(keys.length / 2)
      expect(counts.reads).toBeGreaterThan(keys.length / 2)
      await expectPlaced(ring, acknowledged, writeQuorum)
      // The region is back at weight 2 of 4: it holds replicas again.
      const final = await copiesByKey(ring)
      expect([...final.values()].some((held) => held.has(drained))).toBe(true)
      await expect(ring.kv.get('default', 'never-written')).rejects.toBeInstanceOf(KeyNotFoundError)
    })
  }
})
