// What the ring migration simulations share (R = 1 and R > 1): a cheap router, a fake
// clock, and a store wrapper that crashes callers right after a write.
import type { SimulationScheduler } from '@meridian/seeded-random/simulation-scheduler'
import { KeyMovedError, StaleRingError } from '../errors'
import type { KvService } from '../kv-service'
import { MemoryRegionalStore } from '../memory-regional-store'
import type { RegionalStore } from '../regional-store'
import type { KeyRouterFactory, RingLayout, RingNode } from '../ring-config'
import { layoutOf } from '../ring-config'
import type { MigrationTask, RingMigrationService, RingStatus, TaskCounts } from '../ring-migration'

/** Weighted rendezvous hashing: cheap to build per config, moves only what it must. */
export const rendezvousRouter: KeyRouterFactory = (config) => ({
  preferenceList(routingKey: string, replicas: number): RingNode[] {
    const scored = config.nodes
      .filter((node) => node.weight > 0)
      .map((node) => {
        const hash = (fnv1a(`${node.id}|${routingKey}`) + 0.5) / 2 ** 32
        return { node, score: -node.weight / Math.log(hash) }
      })
      .sort((left, right) => right.score - left.score)
    return scored.slice(0, replicas).map((entry) => entry.node)
  },
})

function fnv1a(text: string): number {
  let hash = 0x811c9dc5
  for (let index = 0; index < text.length; index++) {
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193) >>> 0
  }
  return hash
}

export class Crash extends Error {
  override name = 'Crash'
}

export class Clock {
  constructor(public ms = 1_700_000_000_000) {}
  advance(ms: number) {
    this.ms += ms
  }
}

export const encode = (value: number) => new TextEncoder().encode(String(value))
export const decode = (bytes: Uint8Array) => Number(new TextDecoder().decode(bytes))

/**
 * Wraps a store so that, with `crash()`, a write happens and then its caller crashes; and
 * counts the refusals that send a handler with a stale ring on (moved keys, raised gates).
 */
export function crashingAfterWrites(
  store: MemoryRegionalStore,
  crash: () => boolean,
  onStaleRefusal: () => void,
): RegionalStore {
  const writes = new Set([
    'put',
    'delete',
    'freeze',
    'copyIn',
    'strip',
    'drop',
    'freezeAll',
    'copyInAll',
    'stripAll',
    'raiseGate',
  ])
  return new Proxy(store, {
    get(target, property, receiver) {
      const member = Reflect.get(target, property, receiver)
      if (typeof member !== 'function') return member
      // An async generator: reads only, passed through as it is.
      if (property === 'scan') return member.bind(target)
      return async (...args: unknown[]) => {
        try {
          const result = await member.apply(target, args)
          if (writes.has(String(property)) && crash()) {
            throw new Crash(`crash after ${String(property)}`)
          }
          return result
        } catch (error) {
          if (error instanceof KeyMovedError || error instanceof StaleRingError) {
            onStaleRefusal()
          }
          throw error
        }
      }
    },
  })
}

export interface MigrationWorld {
  seed: number
  scheduler: SimulationScheduler
  /** The handler whose ring the admin reads. */
  kv: KvService
  migrations: RingMigrationService
  /** Where the migrations' tasks wait for a worker. */
  queue: MigrationTask[]
}

/**
 * A schedule's admin: one ring change (two in a row in a quarter of the schedules, so a
 * handler may meet a key a later migration brought back); workers run each pending task,
 * sometimes twice at once, and a crash leaves it for the sweeper, until the ring is stable.
 */
export async function changeRing(
  world: MigrationWorld,
  change: (current: RingLayout) => RingLayout,
  onTaskDone: (counts: TaskCounts | undefined) => void = () => {},
): Promise<void> {
  const { seed, scheduler, kv, migrations, queue } = world
  const survive = (error: unknown) => {
    if (!(error instanceof Crash)) throw error
    return undefined
  }
  for (let round = 0; round < (seed % 4 === 0 ? 2 : 1); round++) {
    const current = await kv.ringConfig()
    if (current.migration) return
    await migrations.begin(current.version, change(layoutOf(current))).catch(survive)
    for (let sweep = 0; sweep < 50; sweep++) {
      const tasks = queue.splice(0)
      await Promise.all(
        tasks.flatMap((task) =>
          Array.from({ length: scheduler.chance(0.3) ? 2 : 1 }, () =>
            migrations.run(task).then(onTaskDone, survive),
          ),
        ),
      )
      const status = await migrations.sweep({ resend: true }).catch(survive)
      if (status?.state === 'stable') break
    }
  }
}

/** After a schedule: settles whatever a crash left (sweeps and tasks, no crashes expected). */
export async function settleRing(world: MigrationWorld): Promise<RingStatus> {
  const { scheduler, migrations, queue } = world
  const final = await scheduler.run([
    async () => {
      for (let attempt = 0; attempt < 20; attempt++) {
        const status = await migrations.sweep({ resend: true }).catch(() => undefined)
        const tasks = queue.splice(0)
        for (const task of tasks) await migrations.run(task).catch(() => undefined)
        if (status?.state === 'stable' && tasks.length === 0) break
      }
      return migrations.status()
    },
  ])
  const settled = final[0]!
  if (settled.status === 'rejected') throw settled.reason
  return settled.value
}

/**
 * One in-memory store per region on the scheduler's clock, and the same stores as callers
 * see them: crashing after a write with `crashChance`, counting stale-ring refusals.
 */
export function simulatedRegions(
  regions: readonly string[],
  options: {
    clock: Clock
    pause: () => Promise<void>
    random: () => number
    crashChance: number
    onStaleRefusal: () => void
  },
): { memory: Record<string, MemoryRegionalStore>; stores: Record<string, RegionalStore> } {
  const { clock, pause, random, crashChance, onStaleRefusal } = options
  const memory = Object.fromEntries(
    regions.map((region) => [region, new MemoryRegionalStore({ nowMs: () => clock.ms, pause })]),
  )
  const stores = Object.fromEntries(
    regions.map((region) => [
      region,
      crashingAfterWrites(memory[region]!, () => random() < crashChance, onStaleRefusal),
    ]),
  )
  return { memory, stores }
}
