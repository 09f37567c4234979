// Deterministic simulation of ring migration with replication (R = 2 or 3): seeded
// interleavings of blind writers and readers on a fresh handler and on one whose ring never
// goes stale on its own, creates under an old ring, range tasks delivered twice, crashes
// right after any write (handovers, copies, drops, repairs), read repair on every read, two
// changes in a row in a quarter of the schedules. After each schedule: no read missed or
// went behind an acknowledged write, every acknowledged write is on W of the key's final
// replicas, and no copy is left outside them.
import { seededRandom } from '@meridian/seeded-random'
import { SimulationScheduler } from '@meridian/seeded-random/simulation-scheduler'
import { describe, expect, it } from 'vitest'
import { createKvService } from '../create-kv-service'
import { QuorumNotReachedError, RingChangingError, VersionMismatchError } from '../errors'
import { type KvService, replicaNodesOf } from '../kv-service'
import { MemoryMigrationLog, MemoryRingConfigStore } from '../memory-ring'
import type { RingLayout } from '../ring-config'
import { type MigrationTask, RingMigrationService } from '../ring-migration'
import {
  Clock,
  Crash,
  changeRing,
  decode,
  encode,
  rendezvousRouter,
  settleRing,
  simulatedRegions,
} from './migration-simulation-support'

const regions = ['r-a', 'r-b', 'r-c', 'r-d']
const schedules = Number(process.env.SIM_SCHEDULES_REPLICATED ?? 1_000)

const exercised = { migrationsFinished: 0, handedOver: 0, staleRefusals: 0, checkedReads: 0 }

/** Errors that leave a write unacknowledged (it may or may not have landed): not violations. */
const unacknowledged = (error: unknown) =>
  error instanceof Crash ||
  error instanceof RingChangingError ||
  error instanceof VersionMismatchError ||
  error instanceof QuorumNotReachedError

async function runSchedule(seed: number): Promise<void> {
  const clock = new Clock()
  const scheduler = new SimulationScheduler(seed, clock, 50, 80_000)
  const random = seededRandom(seed ^ 0x7e9)
  const pause = () => scheduler.pause()
  // R = 2 with W = 1 or 2, and R = 3 with W = 2 (a key then keeps replicas across a change).
  const { replicas, writeQuorum } = [
    { replicas: 2, writeQuorum: 1 },
    { replicas: 2, writeQuorum: 2 },
    { replicas: 3, writeQuorum: 2 },
  ][seed % 3]!
  const { memory, stores } = simulatedRegions(regions, {
    clock,
    pause,
    random,
    crashChance: seed % 5 === 0 ? 0 : 0.03,
    onStaleRefusal: () => exercised.staleRefusals++,
  })
  const ringStore = new MemoryRingConfigStore(pause)
  // Three of the four regions to begin with, so a change can add one.
  const initial: RingLayout = {
    nodes: regions.slice(0, 3).map((region) => ({ id: `${region}-0`, region, weight: 1 })),
  }
  const handler = (stalenessMs: number): KvService =>
    createKvService({
      stores,
      ringStore,
      routerFactory: rendezvousRouter,
      resolveRingConfig: (layout) => layout,
      ringStalenessMs: stalenessMs,
      replication: { replicas, writeQuorum },
      // Repairs on every read, at once: they race the handovers as often as they can.
      repairGraceMs: 0,
      nowMs: () => clock.ms,
    })
  const fresh = handler(0)
  const stale = handler(Number.MAX_SAFE_INTEGER)
  const lateCreator = handler(Number.MAX_SAFE_INTEGER)
  const queue: MigrationTask[] = []
  const migrations = new RingMigrationService({
    kv: fresh,
    ringStore,
    queue: { send: async (tasks) => void queue.push(...tasks) },
    log: new MemoryMigrationLog(pause),
    segments: 2,
    routerFactory: rendezvousRouter,
    nowMs: () => clock.ms,
  })

  const violations: string[] = []
  const writers = ['fresh-0', 'fresh-1', 'stale-0', 'stale-1']
  const lastAcknowledged = new Map<string, number>()
  const setup = await scheduler.run([
    async () => {
      await ringStore.replace('absent', initial)
      for (const key of writers) {
        await fresh.put('default', key, encode(0)).then(
          () => void lastAcknowledged.set(key, 0),
          (error) => {
            if (!unacknowledged(error)) throw error
          },
        )
      }
      await stale.ringConfig()
      await lateCreator.ringConfig()
    },
  ])
  if (setup[0]!.status === 'rejected') throw setup[0]!.reason

  // One writer per key (R > 1 promises nothing for concurrent writers of a key), each
  // writing increasing numbers and reading its own write back.
  const blindWriter = (kv: KvService, key: string, steps: number) => async () => {
    for (let step = 1; step <= steps; step++) {
      try {
        await kv.put('default', key, encode(step))
        lastAcknowledged.set(key, step)
        const read = decode((await kv.get('default', key)).value)
        if (read < step) violations.push(`${key} read ${read} after writing ${step}`)
      } catch (error) {
        if (unacknowledged(error)) continue
        violations.push(`writer ${key}: ${(error as Error).name}: ${(error as Error).message}`)
      }
    }
  }

  // Readers: a read started after a write was acknowledged returns it or a later one.
  const reader = (kv: KvService, steps: number) => async () => {
    for (let step = 0; step < steps; step++) {
      const key = scheduler.pick(writers)
      const floor = lastAcknowledged.get(key) ?? 0
      try {
        const read = decode((await kv.get('default', key)).value)
        exercised.checkedReads++
        if (read < floor) violations.push(`${key} read ${read} after ${floor} was acknowledged`)
      } catch (error) {
        if (error instanceof RingChangingError || error instanceof QuorumNotReachedError) continue
        violations.push(`reader ${key}: ${(error as Error).name}: ${(error as Error).message}`)
      }
    }
  }

  // Creates under a ring loaded before the change: refused (and retried) where a gate is up.
  const created = new Map<string, number>()
  const creator = (kv: KvService, steps: number) => async () => {
    for (let wait = 0; wait < 100 && (await ringStore.load())?.version === 1; wait++) {}
    for (let step = 1; step <= steps; step++) {
      const key = `created-${step}`
      try {
        await kv.put('default', key, encode(step))
        created.set(key, step)
      } catch (error) {
        if (unacknowledged(error)) continue
        violations.push(`creator: ${(error as Error).name}: ${(error as Error).message}`)
      }
    }
  }

  const change = (current: RingLayout): RingLayout => {
    const kind = scheduler.pick(['drain', 'add', 'reweight'] as const)
    const nodes = current.nodes.filter((node) => node.weight > 0)
    if (kind === 'drain' && nodes.length > replicas) {
      const drained = scheduler.pick(nodes)
      return { ...current, nodes: nodes.filter((node) => node !== drained) }
    }
    const missing = regions.filter((region) => !nodes.some((node) => node.region === region))
    if (kind !== 'reweight' && missing.length > 0) {
      const region = scheduler.pick(missing)
      return { ...current, nodes: [...nodes, { id: `${region}-${seed}`, region, weight: 2 }] }
    }
    return {
      ...current,
      nodes: nodes.map((node, index) =>
        index === 0 ? { ...node, weight: node.weight + 2 } : node,
      ),
    }
  }

  const world = { seed, scheduler, kv: fresh, migrations, queue }
  const admin = () =>
    changeRing(world, change, (counts) => {
      exercised.handedOver += counts?.moved ?? 0
    })

  const results = await scheduler.run([
    admin,
    blindWriter(fresh, 'fresh-0', 4),
    blindWriter(fresh, 'fresh-1', 4),
    blindWriter(stale, 'stale-0', 4),
    blindWriter(stale, 'stale-1', 4),
    reader(fresh, 6),
    reader(stale, 6),
    creator(lateCreator, 3),
  ])
  for (const result of results) {
    if (result.status === 'rejected') violations.push(String(result.reason))
  }
  expect(violations, `seed ${seed}`).toEqual([])

  const settled = await settleRing(world)
  expect(settled.state, `seed ${seed}`).toBe('stable')
  if (settled.config.version > 1) exercised.migrationsFinished++
  const router = rendezvousRouter(settled.config)
  const expectations = [...lastAcknowledged, ...created]
  for (const [key, acknowledged] of expectations) {
    const storageKey = `default#${key}`
    const owners = replicaNodesOf(router, storageKey, replicas, regions.length).map(
      (node) => node.region,
    )
    // Nothing outside the key's replicas: every leaving copy was dropped, none was revived.
    const outside = regions.filter(
      (region) => !owners.includes(region) && memory[region]!.peek(storageKey) !== undefined,
    )
    expect(outside, `seed ${seed} ${key} outside ${owners}`).toEqual([])
    // The acknowledged write (or a later one) is on a write quorum of the final replicas.
    const holding = owners.filter((region) => {
      const item = memory[region]!.peek(storageKey)
      return item?.value !== undefined && decode(item.value) >= acknowledged
    })
    expect(holding.length, `seed ${seed} ${key} on ${holding}`).toBeGreaterThanOrEqual(writeQuorum)
  }
}

describe('replicated ring migration simulation', () => {
  it(`keeps every acknowledged write readable and no copy outside its replicas over ${schedules.toLocaleString('en')} seeded schedules (R = 2 and 3)`, async () => {
    for (let first = 1; first <= schedules; first += 10) {
      const seeds = Array.from({ length: Math.min(10, schedules - first + 1) }, (_, i) => first + i)
      await Promise.all(seeds.map((seed) => runSchedule(seed)))
    }
    expect(exercised.migrationsFinished).toBeGreaterThan(schedules / 2)
    expect(exercised.handedOver).toBeGreaterThan(schedules)
    expect(exercised.staleRefusals).toBeGreaterThan(schedules / 10)
    expect(exercised.checkedReads).toBeGreaterThan(schedules * 5)
  }, 300_000)
})
