// Ring migration cases that need one exact sequence (the simulation draws sequences at
// random): a handler still routing by an old migration must not take back a key a later
// migration returned to its old owner.
import { describe, expect, it } from 'vitest'
import { createKvService } from './create-kv-service'
import { MemoryRegionalStore } from './memory-regional-store'
import { MemoryMigrationLog, MemoryRingConfigStore } from './memory-ring'
import type { MigrationTask } from './ring-migration'
import { RingMigrationService } from './ring-migration'

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (value: Uint8Array) => new TextDecoder().decode(value)

function world(options: { keysPerSecond?: number } = {}) {
  const stores = { 'us-east-1': new MemoryRegionalStore(), 'eu-west-1': new MemoryRegionalStore() }
  const ringStore = new MemoryRingConfigStore()
  const handler = (ringStalenessMs: number) =>
    createKvService({ stores, ringStore, ringStalenessMs })
  const kv = handler(0)
  const queue: MigrationTask[] = []
  const log = new MemoryMigrationLog()
  const migrations = new RingMigrationService({
    kv,
    ringStore,
    queue: { send: async (tasks) => void queue.push(...tasks) },
    log,
    ...options,
  })
  const moveAllTo = async (region: string) => {
    const current = await kv.ringConfig()
    return migrations.begin(current.version, { nodes: [{ id: region, region, weight: 1 }] })
  }
  const drain = async (times = 1) => {
    while (queue.length > 0) {
      const tasks = queue.splice(0)
      await Promise.all(
        tasks.flatMap((task) => Array.from({ length: times }, () => migrations.run(task))),
      )
    }
  }
  return { stores, kv, handler, moveAllTo, drain, migrations, log }
}

describe('ring migration, exact sequences', () => {
  it('refuses a handover by a handler whose migration is over and was undone', async () => {
    const { stores, kv, handler, moveAllTo, drain } = world()
    await kv.ringConfig()
    await moveAllTo('us-east-1')
    await drain()
    await kv.put('default', 'k', bytes('one'))
    // A handler that loads the ring while everything moves to eu-west-1, then keeps it.
    await moveAllTo('eu-west-1')
    const stale = handler(Number.MAX_SAFE_INTEGER)
    expect((await stale.ringConfig()).migration?.phase).toBe('moving')
    await drain()
    // Everything moves back to us-east-1: k is live there again.
    await moveAllTo('us-east-1')
    await drain()
    expect(stores['us-east-1'].peek('default#k')?.movedTo).toBeUndefined()

    // The stale handler would pull k from us-east-1 to eu-west-1; the copy's placement is
    // newer than its ring, so it is refused, reloads, and writes at us-east-1.
    await stale.put('default', 'k', bytes('two'))
    expect(stores['us-east-1'].peek('default#k')?.movedTo).toBeUndefined()
    expect(text((await kv.get('default', 'k')).value)).toBe('two')
  })

  it('shows progress while keys move and counts each range once when run twice', async () => {
    const { kv, moveAllTo, drain, migrations, log } = world()
    await kv.ringConfig()
    await moveAllTo('us-east-1')
    await drain()
    for (let index = 0; index < 20; index++) await kv.put('default', `k${index}`, bytes('v'))
    const started = await moveAllTo('eu-west-1')
    expect(started).toMatchObject({
      state: 'migrating',
      migration: { phase: 'moving', ranges: { done: 0, total: 4 }, keys: { moved: 0 } },
    })
    // Every range task runs twice at once: each key moves once, each range counts once.
    await drain(2)
    const status = await migrations.status()
    expect(status.state).toBe('stable')
    expect(status.migration).toBeUndefined()
    const completed = await log.completed(started.version)
    expect(completed).toHaveLength(4)
    expect(completed.reduce((sum, task) => sum + task.moved, 0)).toBe(20)
    for (let index = 0; index < 20; index++) {
      expect(text((await kv.get('default', `k${index}`)).value)).toBe('v')
    }
  })

  it('hands keys over no faster than keysPerSecond', async () => {
    const { kv, moveAllTo, drain, migrations } = world({ keysPerSecond: 400 })
    await kv.ringConfig()
    await moveAllTo('us-east-1')
    await drain()
    for (let index = 0; index < 120; index++) await kv.put('default', `k${index}`, bytes('v'))
    await moveAllTo('eu-west-1')
    const began = performance.now()
    await drain()
    // The first batch starts at once; the other keys (at least 70 of 120) wait their turn.
    expect(performance.now() - began).toBeGreaterThanOrEqual(170)
    expect((await migrations.status()).state).toBe('stable')
    for (let index = 0; index < 120; index++) {
      expect(text((await kv.get('default', `k${index}`)).value)).toBe('v')
    }
  })
})
