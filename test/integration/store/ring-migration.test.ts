// Ring changes move data online, on DynamoDB Local: a CAS-counter workload runs through a
// drain and an add; every acknowledged increment survives, no read goes back in time, the
// drained table keeps no live copy; tasks run twice, handlers with a stale ring, a crash
// after each handover write.

import {
  KeyNotFoundError,
  type KvService,
  layoutOf,
  RingChangingError,
  type RingConfig,
  type RingLayout,
  VersionMismatchError,
} from '@meridian/store'
import { storeIntentResolver, type TransactionService } from '@meridian/txn'
import { describe, expect, it } from 'vitest'
import { type MigratingRing, migratingRing, regions, transactionServiceOver } from './support'

const text = new TextEncoder()
const decode = (bytes: Uint8Array) => Number(new TextDecoder().decode(bytes))

interface Workload {
  stop(): Promise<{ acknowledged: Map<string, number>; errors: unknown[] }>
}

/** Workers increment counters by CAS and read them back, failing on any read that goes back. */
function runWorkload(handlers: KvService[], keys: string[], workers = 6): Workload {
  const acknowledged = new Map<string, number>(keys.map((key) => [key, 0]))
  const seen = new Map<string, number>()
  const errors: unknown[] = []
  let running = true
  const worker = async (index: number) => {
    let step = index
    while (running) {
      const kv = handlers[step % handlers.length]!
      const key = keys[(step * 7 + index) % keys.length]!
      step++
      try {
        const current = await kv.get('default', key)
        const value = decode(current.value)
        const floor = seen.get(key) ?? 0
        if (value < floor) errors.push(new Error(`${key} went back from ${floor} to ${value}`))
        // Every acknowledged increment is visible to a read that starts after it.
        if (value < (acknowledged.get(key) ?? 0) - workers) {
          errors.push(new Error(`${key} reads ${value}, ${acknowledged.get(key)} acknowledged`))
        }
        seen.set(key, Math.max(floor, value))
        await kv.put('default', key, text.encode(String(value + 1)), {
          expectedVersion: current.version,
        })
        acknowledged.set(key, (acknowledged.get(key) ?? 0) + 1)
      } catch (error) {
        if (error instanceof VersionMismatchError || error instanceof RingChangingError) continue
        errors.push(error)
      }
    }
  }
  const done = Promise.all(Array.from({ length: workers }, (_, index) => worker(index)))
  return {
    async stop() {
      running = false
      await done
      return { acknowledged, errors }
    },
  }
}

async function seed(kv: KvService, count: number): Promise<string[]> {
  const keys = Array.from({ length: count }, (_, index) => `counter-${index}`)
  await Promise.all(keys.map((key) => kv.put('default', key, text.encode('0'))))
  return keys
}

async function change(ring: MigratingRing, layout: (current: RingConfig) => RingLayout) {
  const current = await ring.ringStore.load()
  if (!current) throw new Error('no ring')
  return ring.migrations.begin(current.version, layout(current))
}

/** Every region's live (not frozen) copies of the keys: exactly one per written key. */
async function liveCopies(ring: MigratingRing): Promise<Map<string, string[]>> {
  const copies = new Map<string, string[]>()
  for (const [region, store] of Object.entries(ring.stores)) {
    for await (const page of store.scan(0, 1)) {
      for (const item of page) {
        if (item.movedTo) continue
        copies.set(item.storageKey, [...(copies.get(item.storageKey) ?? []), region])
      }
    }
  }
  return copies
}

async function expectCounters(kv: KvService, acknowledged: Map<string, number>) {
  for (const [key, count] of acknowledged) {
    const item = await kv.get('default', key)
    expect(decode(item.value), key).toBe(count)
  }
}

describe('ring migration on DynamoDB Local', () => {
  it('drains a region and adds it back at weight 2 under a CAS workload, losing nothing', async () => {
    const ring = await migratingRing({ ringStalenessMs: 200 })
    const keys = await seed(ring.kv, 60)
    const drained = regions[0]!
    // A second handler whose ring may be up to 200 ms stale, as another Lambda instance.
    const workload = runWorkload([ring.kv, ring.handler({ ringStalenessMs: 200 })], keys)

    const started = await change(ring, (current) => ({
      ...layoutOf(current),
      nodes: current.nodes.filter((node) => node.region !== drained),
    }))
    expect(started).toMatchObject({ state: 'migrating', migration: { phase: 'moving' } })
    await new Promise((resolve) => setTimeout(resolve, 300))
    await ring.inbox.drain(ring.migrations, 2)
    const afterDrain = await ring.migrations.status()
    expect(afterDrain.state).toBe('stable')

    const copies = await liveCopies(ring)
    for (const key of keys) expect(copies.get(`default#${key}`), key).toHaveLength(1)
    expect([...copies.values()].flat()).not.toContain(drained)

    await change(ring, (current) => ({
      ...layoutOf(current),
      nodes: [...current.nodes, { id: `${drained}-back`, region: drained, weight: 2 }],
    }))
    await new Promise((resolve) => setTimeout(resolve, 300))
    await ring.inbox.drain(ring.migrations, 2)
    expect((await ring.migrations.status()).state).toBe('stable')

    const { acknowledged, errors } = await workload.stop()
    expect(errors).toEqual([])
    expect([...acknowledged.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
    await expectCounters(ring.kv, acknowledged)
    const final = await liveCopies(ring)
    for (const key of keys) expect(final.get(`default#${key}`), key).toHaveLength(1)
    // The region came back at weight 2 of 4: it owns keys again.
    expect([...final.values()].flat()).toContain(drained)
  })

  it('sends a handler with an hour-old ring to the new owner; creates and misses included', async () => {
    const ring = await migratingRing()
    const keys = await seed(ring.kv, 30)
    const stale = ring.handler({ ringStalenessMs: 3_600_000 })
    await stale.get('default', keys[0]!) // loads (and keeps) the ring before the change
    const moved = regions[1]!
    await change(ring, (current) => ({
      ...layoutOf(current),
      nodes: current.nodes.filter((node) => node.region !== moved),
    }))
    await ring.inbox.drain(ring.migrations)
    expect((await ring.migrations.status()).state).toBe('stable')
    // A key created by the fresh handler after the move, and read by the stale one.
    await ring.kv.put('default', 'created-after', text.encode('7'))
    expect(decode((await stale.get('default', 'created-after')).value)).toBe(7)
    for (const key of keys) {
      const read = await stale.get('default', key)
      await stale.put('default', key, text.encode('41'), { expectedVersion: read.version })
      expect(decode((await ring.kv.get('default', key)).value)).toBe(41)
    }
    await expect(stale.get('default', 'never-written')).rejects.toBeInstanceOf(KeyNotFoundError)
    const copies = await liveCopies(ring)
    expect([...copies.values()].flat()).not.toContain(moved)
  })

  it('finishes after a crash following each handover write, and a lost task', async () => {
    // Four range tasks over the drained table, each with keys to move (about 25 each).
    const ring = await migratingRing({}, 4)
    const keys = await seed(ring.kv, 300)
    const drained = regions[2]!
    // Each handover write happens, then its caller "crashes" once per kind of write.
    const crashed = new Set<string>()
    for (const store of Object.values(ring.stores)) {
      for (const step of [
        'freezeAll',
        'copyInAll',
        'stripAll',
        'freeze',
        'copyIn',
        'strip',
      ] as const) {
        const original = store[step].bind(store) as (...args: never[]) => Promise<unknown>
        ;(store as unknown as Record<string, unknown>)[step] = async (...args: never[]) => {
          const result = await original(...args)
          if (!crashed.has(step)) {
            crashed.add(step)
            throw new Error(`crash after ${step}`)
          }
          return result
        }
      }
    }
    await change(ring, (current) => ({
      ...layoutOf(current),
      nodes: current.nodes.filter((node) => node.region !== drained),
    }))
    const tasks = ring.inbox.pending.splice(0)
    // One task is lost outright; the others fail while crashes remain, then succeed.
    const lost = tasks.pop()!
    for (const task of tasks) {
      for (let attempt = 0; attempt < 4; attempt++) {
        try {
          await ring.migrations.run(task)
          break
        } catch {}
      }
    }
    // Each batch step crashed once after writing; a re-run finds its batch frozen already
    // and goes key by key, where each step crashed once too.
    expect(crashed).toEqual(
      new Set(['freezeAll', 'copyInAll', 'stripAll', 'freeze', 'copyIn', 'strip']),
    )
    expect((await ring.migrations.status()).state).toBe('migrating')
    // The sweeper re-sends what was never recorded.
    await ring.migrations.sweep({ resend: true })
    expect(ring.inbox.pending).toContainEqual(lost)
    await ring.inbox.drain(ring.migrations)
    expect((await ring.migrations.status()).state).toBe('stable')
    for (const key of keys) expect(decode((await ring.kv.get('default', key)).value)).toBe(0)
    const copies = await liveCopies(ring)
    for (const key of keys) expect(copies.get(`default#${key}`), key).toHaveLength(1)
  })

  it('conserves money over bank transfers by POST-style transactions through a drain and an add', async () => {
    let transactions: TransactionService | undefined
    const ring = await migratingRing({
      resolveIntent: {
        resolve: (storageKey, item, region) =>
          storeIntentResolver(transactions!).resolve(storageKey, item, region),
      },
    })
    const kv = ring.kv
    transactions = transactionServiceOver(ring, kv)
    const accounts = Array.from({ length: 8 }, (_, index) => `account-${index}`)
    for (const account of accounts) await kv.put('default', account, text.encode('100'))
    const committed: string[] = []
    const errors: unknown[] = []
    let running = true
    const transfer = async (worker: number) => {
      let step = worker
      while (running) {
        const from = accounts[step % accounts.length]!
        const to = accounts[(step * 3 + 1) % accounts.length]!
        step++
        if (from === to) continue
        try {
          const [a, b] = await Promise.all([kv.get('default', from), kv.get('default', to)])
          const id = `transfer-${crypto.randomUUID()}`
          const outcome = await transactions!.execute('default', {
            id,
            operations: [
              {
                kind: 'put',
                key: from,
                value: text.encode(String(decode(a.value) - 1)),
                contentType: 'text/plain',
                expectedVersion: a.version,
              },
              {
                kind: 'put',
                key: to,
                value: text.encode(String(decode(b.value) + 1)),
                contentType: 'text/plain',
                expectedVersion: b.version,
              },
              {
                kind: 'put',
                key: `ledger/${id}`,
                value: text.encode(`${from}>${to}`),
                contentType: 'text/plain',
                expectedVersion: 'absent',
              },
            ],
          })
          if (outcome.state === 'COMMITTED') committed.push(id)
        } catch (error) {
          if (
            error instanceof RingChangingError ||
            (error as Error).name === 'KeyInTransactionError'
          )
            continue
          errors.push(error)
        }
      }
    }
    const workers = Promise.all([0, 1, 2].map(transfer))
    const drained = regions[1]!
    await change(ring, (current) => ({
      ...layoutOf(current),
      nodes: current.nodes.filter((node) => node.region !== drained),
    }))
    await new Promise((resolve) => setTimeout(resolve, 200))
    await ring.inbox.drain(ring.migrations)
    await change(ring, (current) => ({
      ...layoutOf(current),
      nodes: [...current.nodes, { id: `${drained}-again`, region: drained, weight: 1 }],
    }))
    await new Promise((resolve) => setTimeout(resolve, 200))
    await ring.inbox.drain(ring.migrations)
    running = false
    await workers
    expect(errors).toEqual([])
    expect((await ring.migrations.status()).state).toBe('stable')
    expect(committed.length).toBeGreaterThan(0)
    let total = 0
    for (const account of accounts) total += decode((await kv.get('default', account)).value)
    expect(total).toBe(100 * accounts.length)
    // Every committed transfer left its ledger entry, readable after both moves.
    for (const id of committed) {
      expect(new TextDecoder().decode((await kv.get('default', `ledger/${id}`)).value)).toMatch(/>/)
    }
  })

  it('refuses a second change while one runs, and a change at a stale version', async () => {
    const ring = await migratingRing()
    const current = (await ring.ringStore.load()) ?? (await ring.kv.ringConfig())
    const layout = { ...layoutOf(current), nodes: current.nodes.slice(1) }
    await expect(ring.migrations.begin(current.version + 5, layout)).rejects.toMatchObject({
      name: 'RingVersionMismatchError',
    })
    const started = await ring.migrations.begin(current.version, layout)
    await expect(ring.migrations.begin(started.version, current)).rejects.toMatchObject({
      name: 'RingMigrationInProgressError',
    })
    await ring.inbox.drain(ring.migrations)
    expect(await ring.migrations.status()).toMatchObject({ state: 'stable' })
  })
})
