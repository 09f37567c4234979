// A mixed workload through the HTTP API while the ring drains a region, adds it back and
// reweights a node, on DynamoDB Local: CAS counters (every acknowledged increment kept),
// lock-fenced writes (no stale fence accepted), bank transfers over POST /txn (money
// conserved, every committed transfer's ledger entry readable), and readers that fail on a
// missing or older value for any key whose write was acknowledged before the read began.
// Two API instances serve it, one with its own ring cache up to 200 ms stale; every range
// task is delivered twice, concurrently.
import { Authenticator, createApp, DynamoApiKeyStore } from '@meridian/api'
import { dynamoClient } from '@meridian/aws'
import { DynamoLockTable, LockService } from '@meridian/lock'
import type { KvService, RegionalStore } from '@meridian/store'
import { storeIntentResolver, type TransactionService } from '@meridian/txn'
import { describe, expect, it } from 'vitest'
import { adminKey, bearer, createKey, uniqueTenant } from '../api/support'
import {
  coordinationTableName,
  type MigratingRing,
  migratingRing,
  regions,
  transactionServiceOver,
} from './support'

interface RingNode {
  id: string
  region: string
  weight: number
}
interface RingAnswer {
  version: number
  state: 'stable' | 'migrating'
  config: { nodes: RingNode[] }
}

type App = ReturnType<typeof createApp>
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** One API instance over the ring's tables: KV, locks, transactions and (home) ring changes. */
function apiInstance(ring: MigratingRing, kv: KvService, home: boolean): App {
  let transactions: TransactionService | undefined
  const handler = home
    ? kv
    : ring.handler({
        ringStalenessMs: 200,
        resolveIntent: {
          resolve: (storageKey, item, region) =>
            storeIntentResolver(transactions!).resolve(storageKey, item, region),
        },
      })
  transactions = transactionServiceOver(ring, handler)
  if (home) homeTransactions.current = transactions
  const keyStore = new DynamoApiKeyStore(dynamoClient(), coordinationTableName())
  const lockTable = new DynamoLockTable(dynamoClient(), coordinationTableName())
  return createApp({
    probes: [],
    security: {
      keyStore,
      authenticator: new Authenticator({ store: keyStore, bootstrapAdminKey: adminKey() }),
    },
    kv: handler,
    transactions,
    locks: new LockService({ table: lockTable, listing: lockTable }),
    ...(home && { ringMigrations: ring.migrations }),
    // A 500 fails the test; its cause is printed with it.
    logError: (error) => console.error('500 cause:', error),
  })
}

/** The home instance's transaction service, for the home KV handler's intent resolver. */
const homeTransactions: { current?: TransactionService } = {}

const counters = Array.from({ length: 12 }, (_, index) => `counter-${index}`)
const accounts = Array.from({ length: 6 }, (_, index) => `account-${index}`)
const fencedKeys = ['fenced-0', 'fenced-1']
const startingBalance = 100

/** What the workload saw; any entry in `failures` fails the test. */
interface Observed {
  failures: string[]
  /** Per counter, the highest value whose write was acknowledged. */
  acknowledged: Map<string, number>
  /** Per fenced key, every accepted write: fence, when it was sent, when it was answered. */
  fencedWrites: Map<string, Array<{ fence: number; sentAt: number; answeredAt: number }>>
  staleFencesRefused: number
  committedTransfers: string[]
  abortedTransfers: number
}

describe('a ring change under an HTTP workload', () => {
  it('keeps CAS, fences, transactions and reads correct through a drain, an add and a reweight', async () => {
    const ring = await migratingRing({
      ringStalenessMs: 200,
      resolveIntent: {
        resolve: (storageKey, item, region) =>
          storeIntentResolver(homeTransactions.current!).resolve(storageKey, item, region),
      },
    })
    const home = apiInstance(ring, ring.kv, true)
    const other = apiInstance(ring, ring.kv, false)
    const instances = [home, other]
    const { key } = await createKey(uniqueTenant('ring-http'), [
      'kv:read',
      'kv:write',
      'lock',
      'txn',
    ])
    const auth = bearer(key)
    const admin = bearer(adminKey())
    let step = 0
    const call = (path: string, init: RequestInit = {}) =>
      instances[step++ % instances.length]!.request(path, {
        ...init,
        headers: { ...auth, ...(init.headers as Record<string, string>) },
      })

    for (const name of [...counters, ...accounts]) {
      const initial = name.startsWith('account') ? String(startingBalance) : '0'
      expect((await call(`/kv/${name}`, { method: 'PUT', body: initial })).status).toBe(201)
    }
    const observed: Observed = {
      failures: [],
      acknowledged: new Map(counters.map((name) => [name, 0])),
      fencedWrites: new Map(fencedKeys.map((name) => [name, []])),
      staleFencesRefused: 0,
      committedTransfers: [],
      abortedTransfers: 0,
    }
    const fail = async (what: string, answer: Response) =>
      observed.failures.push(`${what}: ${answer.status} ${await answer.text()}`)
    /** A key moving right now answers 503 ring-changing: the client retries. */
    const retryable = (answer: Response) => answer.status === 503

    let running = true
    const counterWorker = async (worker: number) => {
      for (let index = worker; running; index++) {
        const name = counters[(index * 5) % counters.length]!
        const floor = observed.acknowledged.get(name)!
        const read = await call(`/kv/${name}`)
        if (retryable(read)) continue
        if (read.status !== 200) {
          await fail(`GET ${name} (acknowledged ${floor})`, read)
          continue
        }
        const value = Number(await read.text())
        if (value < floor)
          observed.failures.push(`GET ${name} read ${value} < acknowledged ${floor}`)
        const write = await call(`/kv/${name}`, {
          method: 'PUT',
          headers: { 'if-match': read.headers.get('etag')! },
          body: String(value + 1),
        })
        if (write.status === 200) {
          const acknowledged = observed.acknowledged.get(name)!
          observed.acknowledged.set(name, Math.max(acknowledged, value + 1))
        } else if (write.status !== 412 && !retryable(write)) await fail(`PUT ${name}`, write)
      }
    }

    /**
     * Holds a short lease and writes its fence; every other round it pauses past the lease
     * before its second write, so another worker takes over and the late write must be refused.
     */
    const fencedWorker = async (worker: number) => {
      for (let round = 0; running; round++) {
        const name = fencedKeys[round % fencedKeys.length]!
        const owner = `owner-${worker}`
        const acquired = await call(`/locks/lock-${name}/acquire`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ owner, leaseMs: 200, waitMs: 2_000 }),
        })
        if (acquired.status === 409) continue
        if (acquired.status !== 200) {
          await fail(`acquire ${name}`, acquired)
          continue
        }
        const { fence } = (await acquired.json()) as { fence: number }
        for (let write = 0; write < 2; write++) {
          if (write === 1 && round % 2 === 1) await sleep(1_500)
          const sentAt = performance.now()
          const answer = await call(`/kv/${name}`, {
            method: 'PUT',
            headers: { 'meridian-fence': String(fence) },
            body: String(fence),
          })
          if (answer.status === 200 || answer.status === 201) {
            observed.fencedWrites.get(name)!.push({ fence, sentAt, answeredAt: performance.now() })
          } else if (answer.status === 409) {
            const problem = (await answer.json()) as { type: string }
            if (problem.type.endsWith('stale-fence')) observed.staleFencesRefused++
            else observed.failures.push(`fenced PUT ${name}: ${problem.type}`)
          } else if (!retryable(answer)) await fail(`fenced PUT ${name}`, answer)
        }
        await call(`/locks/lock-${name}/release`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ owner, fence }),
        })
      }
    }

    const transferWorker = async (worker: number) => {
      for (let index = worker; running; index++) {
        const from = accounts[index % accounts.length]!
        const to = accounts[(index * 5 + 1) % accounts.length]!
        if (from === to) continue
        const [a, b] = await Promise.all([call(`/kv/${from}`), call(`/kv/${to}`)])
        if (a.status !== 200 || b.status !== 200) {
          for (const [name, answer] of [
            [from, a],
            [to, b],
          ] as const) {
            if (answer.status !== 200 && !retryable(answer)) await fail(`GET ${name}`, answer)
          }
          continue
        }
        const version = (answer: Response) =>
          Number(answer.headers.get('etag')!.replaceAll('"', ''))
        const id = `transfer-${crypto.randomUUID()}`
        const answer = await call('/txn', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            id,
            operations: [
              {
                op: 'put',
                key: from,
                value: String(Number(await a.text()) - 1),
                ifVersion: version(a),
              },
              {
                op: 'put',
                key: to,
                value: String(Number(await b.text()) + 1),
                ifVersion: version(b),
              },
              { op: 'put', key: `ledger-${id}`, value: `${from}>${to}`, ifVersion: 'absent' },
            ],
          }),
        })
        if (answer.status === 200) observed.committedTransfers.push(id)
        else if (answer.status === 409) observed.abortedTransfers++
        else if (!retryable(answer)) await fail('POST /txn', answer)
      }
    }

    // Range tasks, each delivered twice at once, as soon as they are sent.
    const pump = (async () => {
      while (running) {
        await ring.inbox.drain(ring.migrations, 2)
        await sleep(50)
      }
    })()
    const workers = Promise.all([
      counterWorker(0),
      counterWorker(1),
      fencedWorker(0),
      fencedWorker(1),
      fencedWorker(2),
      transferWorker(0),
      transferWorker(1),
    ])

    const ringNow = async () =>
      (await (await home.request('/ring', { headers: admin })).json()) as RingAnswer
    const changeRing = async (nodes: (current: RingNode[]) => RingNode[]) => {
      await sleep(700) // let the workload run on the current layout first
      const current = await ringNow()
      expect(current.state).toBe('stable')
      const answer = await home.request('/ring', {
        method: 'PUT',
        headers: {
          ...admin,
          'content-type': 'application/json',
          'if-match': `"${current.version}"`,
        },
        body: JSON.stringify({ nodes: nodes(current.config.nodes) }),
      })
      expect(answer.status).toBe(202)
      const started = (await answer.json()) as { migration: { from: number; to: number } }
      expect(started.migration.from).toBe(current.version)
      const deadline = Date.now() + 60_000
      let status = await ringNow()
      while (status.state !== 'stable' && Date.now() < deadline) {
        await sleep(100)
        status = await ringNow()
      }
      expect(status.state).toBe('stable')
      expect(status.version).toBe(started.migration.to)
      return status
    }

    const moved = regions[1]!
    const drained = await changeRing((nodes) => nodes.filter((node) => node.region !== moved))
    expect(drained.config.nodes.map((node) => node.region)).not.toContain(moved)
    const added = await changeRing((nodes) => [
      ...nodes,
      { id: `${moved}-back`, region: moved, weight: 1 },
    ])
    expect(added.config.nodes.map((node) => node.region)).toContain(moved)
    await changeRing((nodes) =>
      nodes.map((node) =>
        node.region === regions[0] ? { ...node, weight: node.weight * 2 } : node,
      ),
    )
    await sleep(700)
    running = false
    await workers
    await pump

    expect(observed.failures).toEqual([])
    // The workload did its work during the changes, not only around them.
    expect([...observed.acknowledged.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(20)
    expect(observed.committedTransfers.length).toBeGreaterThan(5)
    expect(observed.staleFencesRefused).toBeGreaterThan(0)

    // Counters: the final value is the highest acknowledged one (no increment lost or undone).
    for (const [name, acknowledged] of observed.acknowledged) {
      expect(
        Number(await (await home.request(`/kv/${name}`, { headers: auth })).text()),
        name,
      ).toBe(acknowledged)
    }
    // Fences: no write accepted with a fence lower than one already acknowledged before it
    // was sent; the key ends at the highest accepted fence.
    for (const [name, writes] of observed.fencedWrites) {
      expect(writes.length, name).toBeGreaterThan(0)
      for (const late of writes) {
        const overtaken = writes.find(
          (earlier) => earlier.answeredAt < late.sentAt && earlier.fence > late.fence,
        )
        expect(
          overtaken,
          `${name}: fence ${late.fence} accepted after ${overtaken?.fence}`,
        ).toBeUndefined()
      }
      const final = Number(await (await home.request(`/kv/${name}`, { headers: auth })).text())
      expect(final, name).toBe(Math.max(...writes.map((write) => write.fence)))
    }
    // Bank: money conserved, and every committed transfer's ledger entry is readable.
    let total = 0
    for (const account of accounts) {
      total += Number(await (await home.request(`/kv/${account}`, { headers: auth })).text())
    }
    expect(total).toBe(startingBalance * accounts.length)
    for (const id of observed.committedTransfers) {
      const ledger = await home.request(`/kv/ledger-${id}`, { headers: auth })
      expect(ledger.status, id).toBe(200)
      expect(await ledger.text()).toMatch(/^account-\d>account-\d$/)
    }
    // Each region's table holds exactly one live copy of each key (none left behind).
    const live = await liveStorageKeys(ring.stores)
    for (const [storageKey, holders] of live) expect(holders, storageKey).toHaveLength(1)
  }, 180_000)
})

async function liveStorageKeys(stores: Record<string, RegionalStore>) {
  const live = new Map<string, string[]>()
  for (const [region, store] of Object.entries(stores)) {
    for await (const page of store.scan(0, 1)) {
      for (const item of page) {
        if (item.movedTo || item.storageKey.startsWith('!')) continue
        live.set(item.storageKey, [...(live.get(item.storageKey) ?? []), region])
      }
    }
  }
  return live
}
