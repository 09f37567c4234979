// Deterministic simulation of ring migration: seeded interleavings of CAS writers (one with
// a ring that never goes stale on its own, so it meets frozen keys and raised gates),
// range tasks delivered twice and run concurrently, crashes right after a handover or a
// write, and the sweeper, over the same ports as DynamoDB (the regional store contract
// suite runs on both). After each schedule: every acknowledged increment is in the final
// value, no read went back in time, and each key has exactly one live copy, at its owner.
import { seededRandom } from '@meridian/seeded-random'
import { SimulationScheduler } from '@meridian/seeded-random/simulation-scheduler'
import { describe, expect, it } from 'vitest'
import { createKvService } from '../create-kv-service'
import { KeyNotFoundError, RingChangingError, VersionMismatchError } from '../errors'
import type { KvService } from '../kv-service'
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

const regions = ['r-a', 'r-b', 'r-c']
const keys = ['k0', 'k1', 'k2', 'k3', 'k4']
const schedules = Number(process.env.SIM_SCHEDULES ?? 5_000)

/** What the schedules exercised, summed: a simulation that never moves a key proves nothing. */
const exercised = { migrationsFinished: 0, keysMoved: 0, staleRefusals: 0, blindWrites: 0 }

interface Outcome {
  acknowledged: Map<string, number>
  /** Increments whose writer crashed after the write may or may not have happened. */
  uncertain: Map<string, number>
  violations: string[]
}

async function runSchedule(seed: number): Promise<void> {
  const clock = new Clock()
  const scheduler = new SimulationScheduler(seed, clock, 50, 50_000)
  const random = seededRandom(seed ^ 0x5eed)
  const pause = () => scheduler.pause()
  const { memory, stores } = simulatedRegions(regions, {
    clock,
    pause,
    random,
    crashChance: seed % 3 === 0 ? 0 : 0.04,
    onStaleRefusal: () => exercised.staleRefusals++,
  })
  const ringStore = new MemoryRingConfigStore(pause)
  const handler = (stalenessMs: number): KvService =>
    createKvService({
      stores,
      ringStore,
      routerFactory: rendezvousRouter,
      resolveRingConfig: (layout) => layout,
      ringStalenessMs: stalenessMs,
      nowMs: () => clock.ms,
    })
  const fresh = handler(0)
  // Loads the ring at setup and starts creating keys only once a change has begun.
  const lateCreator = handler(Number.MAX_SAFE_INTEGER)
  // Never reloads on its own: only a store's refusal makes it reload.
  const stale = handler(Number.MAX_SAFE_INTEGER)
  const queue: MigrationTask[] = []
  const migrations = new RingMigrationService({
    kv: fresh,
    ringStore,
    queue: { send: async (tasks) => void queue.push(...tasks) },
    log: new MemoryMigrationLog(pause),
    segments: 2,
    routerFactory: rendezvousRouter,
    // Every region of the old ring is scanned (rendezvous hashing has no movement plan).
    sourceRegions: (from) => [...new Set(from.nodes.map((node) => node.region))].sort(),
    nowMs: () => clock.ms,
  })

  const outcome: Outcome = { acknowledged: new Map(), uncertain: new Map(), violations: [] }
  const setup = await scheduler.run([
    async () => {
      for (const key of keys) {
        await fresh.put('default', key, encode(0)).catch((error) => {
          if (!(error instanceof Crash)) throw error
        })
      }
      await stale.ringConfig()
      await lateCreator.ringConfig()
    },
  ])
  if (setup[0]!.status === 'rejected') throw setup[0]!.reason
  const seen = new Map<string, number>()

  // Blind writes (no expected version) of increasing numbers, one writer per key, then a
  // read of its own write: a write that reaches a table the key is not live in shows up.
  const lastAcknowledged = new Map<string, number>()
  const blindWriter = (kv: KvService, key: string, steps: number) => async () => {
    for (let step = 1; step <= steps; step++) {
      try {
        await kv.put('default', key, encode(step))
        lastAcknowledged.set(key, step)
        exercised.blindWrites++
        const read = decode((await kv.get('default', key)).value)
        if (read < step) outcome.violations.push(`${key} read ${read} after writing ${step}`)
      } catch (error) {
        if (error instanceof Crash || error instanceof RingChangingError) continue
        outcome.violations.push(
          `blind writer: ${(error as Error).name}: ${(error as Error).message}`,
        )
      }
    }
  }

  // Creates of new keys, one per step: a create under an old ring must not strand a key at
  // a table that is no longer its owner (the gates refuse it).
  const created = new Map<string, number>()
  const creator = (kv: KvService, prefix: string, steps: number) => async () => {
    for (let wait = 0; wait < 100 && (await ringStore.load())?.version === 1; wait++) {}
    for (let step = 1; step <= steps; step++) {
      const key = `${prefix}-${step}`
      try {
        await kv.put('default', key, encode(step))
        created.set(key, step)
      } catch (error) {
        if (error instanceof Crash || error instanceof RingChangingError) continue
        outcome.violations.push(`creator: ${(error as Error).name}: ${(error as Error).message}`)
      }
    }
  }

  const writer = (kv: KvService, steps: number) => async () => {
    for (let step = 0; step < steps; step++) {
      const key = scheduler.pick(keys)
      // Reads that finished before this one started bound what it may return.
      const floor = seen.get(key) ?? 0
      try {
        let current: { value: number; version: number | 'absent' }
        try {
          const item = await kv.get('default', key)
          current = { value: decode(item.value), version: item.version }
        } catch (error) {
          if (!(error instanceof KeyNotFoundError)) throw error
          current = { value: 0, version: 'absent' }
        }
        if (current.value < floor) {
          outcome.violations.push(`${key} read ${current.value} after ${floor}`)
        }
        seen.set(key, Math.max(seen.get(key) ?? 0, current.value))
        try {
          await kv.put('default', key, encode(current.value + 1), {
            expectedVersion: current.version,
          })
          outcome.acknowledged.set(key, (outcome.acknowledged.get(key) ?? 0) + 1)
        } catch (error) {
          if (error instanceof Crash) {
            outcome.uncertain.set(key, (outcome.uncertain.get(key) ?? 0) + 1)
          } else throw error
        }
      } catch (error) {
        if (
          error instanceof Crash ||
          error instanceof VersionMismatchError ||
          error instanceof RingChangingError
        ) {
          continue
        }
        outcome.violations.push(
          `writer failed: ${(error as Error).name}: ${(error as Error).message}`,
        )
      }
    }
  }

  const change = (current: RingLayout): RingLayout => {
    const kind = scheduler.pick(['drain', 'add', 'reweight'] as const)
    const nodes = current.nodes.filter((node) => node.weight > 0)
    if (kind === 'drain' && nodes.length > 1) {
      const drained = scheduler.pick(nodes)
      return { ...current, nodes: nodes.filter((node) => node !== drained) }
    }
    const missing = regions.filter((region) => !nodes.some((node) => node.region === region))
    if (kind === 'add' && missing.length > 0) {
      const region = scheduler.pick(missing)
      return { ...current, nodes: [...nodes, { id: `${region}-${seed}`, region, weight: 2 }] }
    }
    return {
      ...current,
      nodes: nodes.map((node, index) =>
        index === 0 ? { ...node, weight: node.weight + 1 } : node,
      ),
    }
  }

  const world = { seed, scheduler, kv: fresh, migrations, queue }
  const admin = () => changeRing(world, change)

  const results = await scheduler.run([
    admin,
    writer(fresh, 6),
    writer(stale, 6),
    blindWriter(fresh, 'blind-fresh', 4),
    blindWriter(stale, 'blind-stale', 4),
    creator(lateCreator, 'created-late', 3),
  ])
  for (const result of results) {
    if (result.status === 'rejected') outcome.violations.push(String(result.reason))
  }
  expect(outcome.violations, `seed ${seed}`).toEqual([])

  // Settle whatever a crash left, then check every key with crashes turned off.
  const settled = await settleRing(world)
  expect(settled.state, `seed ${seed}`).toBe('stable')
  const router = rendezvousRouter(settled.config)
  if (settled.config.version > 1) exercised.migrationsFinished++
  for (const key of ['blind-fresh', 'blind-stale']) {
    const storageKey = `default#${key}`
    const live = regions.filter((region) => {
      const item = memory[region]!.peek(storageKey)
      return item !== undefined && item.version > 0 && item.movedTo === undefined
    })
    const acknowledged = lastAcknowledged.get(key)
    if (acknowledged === undefined) continue
    expect(live, `seed ${seed} ${key}`).toEqual([router.preferenceList(storageKey, 1)[0]!.region])
    expect(
      decode(memory[live[0]!]!.peek(storageKey)!.value!),
      `seed ${seed} ${key}`,
    ).toBeGreaterThanOrEqual(acknowledged)
  }
  for (const [key, value] of created) {
    const storageKey = `default#${key}`
    const live = regions.filter((region) => {
      const item = memory[region]!.peek(storageKey)
      return item !== undefined && item.version > 0 && item.movedTo === undefined
    })
    expect(live, `seed ${seed} ${key}`).toEqual([router.preferenceList(storageKey, 1)[0]!.region])
    expect(decode(memory[live[0]!]!.peek(storageKey)!.value!), `seed ${seed} ${key}`).toBe(value)
  }
  for (const region of regions) {
    for (const key of [...keys, 'blind-fresh', 'blind-stale']) {
      if (memory[region]!.peek(`default#${key}`)?.movedTo) exercised.keysMoved++
    }
  }
  for (const key of keys) {
    const storageKey = `default#${key}`
    const live = regions.filter((region) => {
      const item = memory[region]!.peek(storageKey)
      return item !== undefined && item.version > 0 && item.movedTo === undefined
    })
    const owner = router.preferenceList(storageKey, 1)[0]!.region
    const ever = (outcome.acknowledged.get(key) ?? 0) + (outcome.uncertain.get(key) ?? 0)
    if (live.length === 0) {
      // No live copy anywhere: only possible if no write to the key was ever acknowledged.
      expect(outcome.acknowledged.get(key) ?? 0, `seed ${seed} ${key}`).toBe(0)
      continue
    }
    expect(live, `seed ${seed} ${key}`).toEqual([owner])
    const value = decode(memory[owner]!.peek(storageKey)!.value!)
    expect(value, `seed ${seed} ${key}`).toBeGreaterThanOrEqual(outcome.acknowledged.get(key) ?? 0)
    expect(value, `seed ${seed} ${key}`).toBeLessThanOrEqual(ever)
  }
}

describe('ring migration simulation', () => {
  it(`keeps every acknowledged write and one live copy per key over ${schedules.toLocaleString('en')} seeded schedules`, async () => {
    // Schedules run ten at a time: each has its own scheduler, so each stays deterministic.
    for (let first = 1; first <= schedules; first += 10) {
      const seeds = Array.from({ length: Math.min(10, schedules - first + 1) }, (_, i) => first + i)
      await Promise.all(seeds.map((seed) => runSchedule(seed)))
    }
    // Most schedules finished a migration, moved keys, and sent the stale handler on.
    expect(exercised.migrationsFinished).toBeGreaterThan(schedules / 2)
    expect(exercised.keysMoved).toBeGreaterThan(schedules)
    expect(exercised.staleRefusals).toBeGreaterThan(schedules / 10)
    expect(exercised.blindWrites).toBeGreaterThan(schedules)
  }, 300_000)
})
