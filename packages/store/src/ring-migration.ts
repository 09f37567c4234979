// Changing the ring online: the lifecycle stable(v) → migrating → stable, and the range
// tasks that move the keys whose owner changes.
//
// The lifecycle, each step one conditional write on the ring config item:
//   1. begin: stable(v) → migrating, phase 'gating' (version v+1, `from` = config v). Handlers
//      that load it keep routing by config v, with v as their ring version.
//   2. raise every store table's gate to v+1 (idempotent), then phase 'moving' (v+2). From
//      here handlers route by the new layout and pull a moving key from its old owner before
//      writing it (kv-service.ts, "the handover"). A handler still on ring v is refused by
//      the gate wherever it would create a key or answer "absent", and by the frozen marker
//      wherever the key already moved, so it reloads the ring and retries at the new owner.
//   3. range tasks: each source table is split into `segments` parallel Scan segments, one
//      task each, sent through a queue (SQS with a DLQ in AWS). A task hands over every key
//      of its segment whose owner changes (freeze, copy, strip), then records its completion
//      once (a conditional create in the migration log).
//   4. whoever sees every task complete (the worker that ran the last one, or the sweeper)
//      writes stable (v+3): the new layout with no migration.
// Everything is resumable: a crash between steps leaves a state `sweep` continues from
// (raise the gates again, re-send the tasks not yet recorded, finish). Handovers are safe to
// repeat, so a task delivered twice, or run beside a handler pulling the same key, does no
// harm. A key held by a transaction is not moved until the transaction resolves (through
// the intent resolver); the task fails and is retried by the queue.
// With R > 1 the lifecycle is the same; a task hands over each key its region stops being
// a replica of, from the key's old replica set to its new one (KvService.handOverReplicas:
// freeze the leaving copies, copy the newest into every new replica, drop the frozen ones),
// and every region of the old ring is scanned.
import {
  InvalidRingConfigError,
  KeyInTransactionError,
  RingMigrationInProgressError,
  RingVersionMismatchError,
  StaleRingError,
} from './errors'
import { type KvService, replicaNodesOf } from './kv-service'
import type { RegionalStore, StoredItem } from './regional-store'
import {
  type KeyRouter,
  type KeyRouterFactory,
  layoutOf,
  type RingConfig,
  type RingConfigStore,
  type RingLayout,
} from './ring-config'
import { losingRegions, ringRouterFactory } from './ring-router'

/** One range task: a Scan segment of one source table, for one migration. */
export interface MigrationTask {
  /** The config version of the migration's 'moving' phase; other versions are stale. */
  ringVersion: number
  region: string
  segment: number
  segments: number
}

export interface TaskCounts {
  /** Items the Scan read (DynamoDB reads, in items). */
  scanned: number
  /** Keys this task handed over (a key a handler pulled first is not counted). */
  moved: number
}

/** Where range tasks go: SQS in AWS, an in-process queue in tests. */
export interface MigrationQueue {
  send(tasks: readonly MigrationTask[]): Promise<void>
}

/** The record of completed tasks (the coordination table in AWS). */
export interface MigrationLog {
  /** Records a task's completion with its counts; false when it was already recorded. */
  complete(task: MigrationTask, counts: TaskCounts): Promise<boolean>
  /** The completed tasks of the migration at `ringVersion`. */
  completed(ringVersion: number): Promise<Array<MigrationTask & TaskCounts>>
}

export interface MigrationProgress {
  phase: 'gating' | 'moving'
  /** The stable ring version the migration started from (also `fromVersion`, kept for clients). */
  from: number
  /** The version the ring will have once stable again (one conditional write per step). */
  to: number
  fromVersion: number
  startedAt: string
  ranges: { done: number; total: number }
  keys: { moved: number; scanned: number }
}

export interface RingStatus {
  version: number
  state: 'stable' | 'migrating'
  config: RingConfig
  migration?: MigrationProgress
}

export interface RingMigrationOptions {
  kv: KvService
  ringStore: RingConfigStore
  queue: MigrationQueue
  log: MigrationLog
  /** Scan segments (tasks) per source table. */
  segments?: number
  /** Batches (of up to 50 keys; with R > 1, single keys) a range task hands over at once. */
  concurrency?: number
  /**
   * An upper bound on the keys per second one range task (one worker instance) hands over,
   * unbounded when absent: trades the move's speed for the requests' latency while it
   * runs, as Cassandra's stream_throughput_outbound does.
   */
  keysPerSecond?: number
  /** How long after its start the sweeper re-sends a migration's unrecorded tasks. */
  resendAfterMs?: number
  routerFactory?: KeyRouterFactory
  /** Which regions lose keys in a change; defaults to the ring's own movement plan. */
  sourceRegions?: (from: RingConfig, to: RingConfig) => string[]
  nowMs?: () => number
}

export const defaultMigrationSegments = 4

export class RingMigrationService {
  private readonly options: RingMigrationOptions
  private readonly nowMs: () => number
  private readonly routerFactory: KeyRouterFactory
  /** When the rate bound lets the next batch start (keysPerSecond). */
  private paceAtMs = 0

  constructor(options: RingMigrationOptions) {
    this.options = options
    this.nowMs = options.nowMs ?? Date.now
    this.routerFactory = options.routerFactory ?? ringRouterFactory
  }

  /**
   * Starts moving to `layout` if the ring is stable at `expectedVersion`; returns the
   * status once the migration is under way (the sweeper finishes any step left undone).
   */
  async begin(expectedVersion: number, layout: RingLayout): Promise<RingStatus> {
    const { kv, ringStore } = this.options
    const checked = kv.ringCache.check(layout)
    kv.validateRing(checked)
    const current = await ringStore.load()
    if (current?.migration) {
      throw new RingMigrationInProgressError(
        `the ring is migrating from version ${current.migration.from.version}; one change at a time`,
      )
    }
    if (!current || current.version !== expectedVersion) {
      throw new RingVersionMismatchError(expectedVersion, current?.version)
    }
    const from: RingConfig = { ...layoutOf(current), version: current.version }
    // With R > 1 every old region may lose a replica role: each table is scanned.
    const sourceRegions =
      kv.replication.replicas > 1 && !this.options.sourceRegions
        ? [...new Set(from.nodes.map((node) => node.region))].sort()
        : (this.options.sourceRegions ?? losingRegions)(from, {
            ...checked,
            version: expectedVersion + 1,
          })
    const gating = await ringStore.replace(expectedVersion, {
      ...checked,
      migration: {
        phase: 'gating',
        from,
        gateVersion: expectedVersion + 1,
        segments: this.options.segments ?? defaultMigrationSegments,
        sourceRegions,
        startedAtMs: this.nowMs(),
      },
    })
    await this.advance(gating)
    return this.status()
  }

  /** The stored ring and, while it migrates, its progress. */
  async status(): Promise<RingStatus> {
    const config = await this.load()
    const migration = config.migration
    if (!migration) return { version: config.version, state: 'stable', config }
    const done =
      migration.phase === 'moving' ? await this.options.log.completed(config.version) : []
    return {
      version: config.version,
      state: 'migrating',
      // The target layout; the migration's own bookkeeping is summarised below instead.
      config: { ...layoutOf(config), version: config.version },
      migration: {
        phase: migration.phase,
        from: migration.from.version,
        to: config.version + (migration.phase === 'gating' ? 2 : 1),
        fromVersion: migration.from.version,
        startedAt: new Date(migration.startedAtMs).toISOString(),
        ranges: { done: done.length, total: this.tasksOf(config).length },
        keys: {
          moved: done.reduce((sum, task) => sum + task.moved, 0),
          scanned: done.reduce((sum, task) => sum + task.scanned, 0),
        },
      },
    }
  }

  /**
   * Continues a migration from wherever it stands: raise the gates, enter 'moving', send
   * the tasks not yet recorded (all of them when `resend`), finish when all are.
   */
  async sweep(options: { resend?: boolean } = {}): Promise<RingStatus> {
    const config = await this.load()
    if (config.migration) {
      const startedLongAgo =
        this.nowMs() - config.migration.startedAtMs >= (this.options.resendAfterMs ?? 60_000)
      await this.advance(config, options.resend ?? startedLongAgo)
    }
    return this.status()
  }

  /** Runs one range task (the queue worker's body). Safe to run twice, or after a crash. */
  async run(task: MigrationTask): Promise<TaskCounts | undefined> {
    const config = await this.load()
    if (config.migration?.phase !== 'moving' || config.version !== task.ringVersion)
      return undefined
    const counts: TaskCounts = { scanned: 0, moved: 0 }
    if (this.options.kv.replication.replicas > 1) {
      await this.runReplicated(task, config, counts)
      return this.complete(task, config, counts)
    }
    const store = this.store(task.region)
    const next = this.router(config)
    for await (const page of store.scan(task.segment, task.segments)) {
      counts.scanned += page.length
      // Keys that leave this table, by destination. Plain copies go in transactions of up
      // to batchSize keys (three round trips per batch instead of three per key); anything
      // else, or a batch that is refused (a write, an intent, a handler's pull got there
      // first), goes key by key.
      const byOwner = new Map<string, StoredItem[]>()
      const oneByOne: Array<[StoredItem, string]> = []
      for (const item of page) {
        const owner = next.preferenceList(item.storageKey, 1)[0]!.region
        if (owner === task.region) continue
        if (item.movedTo !== undefined || item.intent) oneByOne.push([item, owner])
        else byOwner.set(owner, [...(byOwner.get(owner) ?? []), item])
      }
      const batches = [...byOwner].flatMap(([owner, items]) =>
        batchesOf(items).map((batch) => [owner, batch] as const),
      )
      await inBatches(batches, this.options.concurrency ?? 8, async ([owner, batch]) => {
        const { moved, refused } = await this.handOverAll(batch, task, owner)
        counts.moved += moved
        oneByOne.push(...refused.map((item) => [item, owner] as [StoredItem, string]))
      })
      await inBatches(oneByOne, 16, async ([item, owner]) => {
        if (await this.handOver(item, task, owner)) counts.moved++
      })
    }
    return this.complete(task, config, counts)
  }

  private async complete(
    task: MigrationTask,
    config: RingConfig,
    counts: TaskCounts,
  ): Promise<TaskCounts> {
    await this.options.log.complete(task, counts)
    await this.finishIfDone(config)
    return counts
  }

  /**
   * R > 1: every key of the segment that this region stops being a replica of is handed
   * over from its old replicas to its new ones (KvService.handOverReplicas). A key with no
   * copy on any leaving replica needs no move: its acknowledged writes are on W staying
   * replicas, which are a write quorum of the new set too.
   */
  private async runReplicated(
    task: MigrationTask,
    config: RingConfig,
    counts: TaskCounts,
  ): Promise<void> {
    const { kv } = this.options
    const migration = config.migration!
    const previous = this.router(migration.from)
    const next = this.router(config)
    const replicas = kv.replication.replicas
    const nodeCount = config.nodes.length + migration.from.nodes.length
    for await (const page of this.store(task.region).scan(task.segment, task.segments)) {
      counts.scanned += page.length
      const moving = page.flatMap((item) => {
        const to = replicaNodesOf(next, item.storageKey, replicas, nodeCount).map(regionOf)
        if (to.includes(task.region) || item.version === 0) return []
        const from = replicaNodesOf(previous, item.storageKey, replicas, nodeCount).map(regionOf)
        return [{ item, from, to }]
      })
      await inBatches(moving, this.options.concurrency ?? 8, async ({ item, from, to }) => {
        await this.pace(1)
        try {
          if (await kv.handOverReplicas(item.storageKey, from, to, config.version)) counts.moved++
        } catch (error) {
          // A later migration placed the key here again: this task is stale, leave the key.
          if (!(error instanceof StaleRingError)) throw error
        }
      })
    }
  }

  private async advance(config: RingConfig, resend = true): Promise<void> {
    let current = config
    const migration = current.migration
    if (!migration) return
    if (migration.phase === 'gating') {
      const stores = Object.values(this.options.kv.stores)
      await Promise.all(stores.map((store) => store.raiseGate(migration.gateVersion)))
      try {
        current = await this.options.ringStore.replace(current.version, {
          ...layoutOf(current),
          migration: { ...migration, phase: 'moving' },
        })
      } catch (error) {
        // Someone else advanced it: continue from what is stored.
        if (!(error instanceof RingVersionMismatchError)) throw error
        return this.advance(await this.load(), resend)
      }
      resend = true
    }
    if (await this.finishIfDone(current)) return
    if (!resend) return
    const done = new Set(
      (await this.options.log.completed(current.version)).map((task) => taskId(task)),
    )
    const pending = this.tasksOf(current).filter((task) => !done.has(taskId(task)))
    if (pending.length > 0) await this.options.queue.send(pending)
  }

  /** Writes stable when every task of the migration is recorded; true if it is stable now. */
  private async finishIfDone(config: RingConfig): Promise<boolean> {
    const total = this.tasksOf(config).length
    const done = await this.options.log.completed(config.version)
    if (done.length < total) return false
    try {
      const stable = await this.options.ringStore.replace(config.version, layoutOf(config))
      await this.options.kv.ringCache.refresh().catch(() => undefined)
      return stable.migration === undefined
    } catch (error) {
      if (error instanceof RingVersionMismatchError) return true
      throw error
    }
  }

  /**
   * Hands a batch of plain copies over at once. A batch that can't be frozen as scanned
   * (a writer changed some of its keys since the Scan, or holds them; nothing was written)
   * names the keys it refused: those are returned for the caller to hand over key by key,
   * and the rest is frozen again without them. Once frozen, a refused copy or strip
   * finishes key by key here (each step is safe to repeat).
   */
  private async handOverAll(
    scanned: readonly StoredItem[],
    task: MigrationTask,
    target: string,
  ): Promise<{ moved: number; refused: StoredItem[] }> {
    await this.pace(scanned.length)
    const from = this.store(task.region)
    const to = this.store(target)
    const refused: StoredItem[] = []
    let batch = [...scanned]
    for (;;) {
      if (batch.length === 0) return { moved: 0, refused }
      const refusedNow = await from.freezeAll(batch, target, task.ringVersion)
      if (refusedNow.length === 0) break
      refused.push(...refusedNow)
      const keys = new Set(refusedNow.map((item) => item.storageKey))
      batch = batch.filter((item) => !keys.has(item.storageKey))
    }
    let moved = batch.length
    if (!(await to.copyInAll(batch, task.ringVersion))) {
      const copied = await Promise.all(batch.map((item) => to.copyIn(item, task.ringVersion)))
      moved = copied.filter(Boolean).length
    }
    if (!(await from.stripAll(batch))) {
      await Promise.all(batch.map((item) => from.strip(item.storageKey, item.version)))
    }
    return { moved, refused }
  }

  /** Waits until `keys` more keys fit under the keysPerSecond bound, if there is one. */
  private async pace(keys: number): Promise<void> {
    const rate = this.options.keysPerSecond
    if (rate === undefined || rate <= 0) return
    const now = this.nowMs()
    const startAtMs = Math.max(now, this.paceAtMs)
    this.paceAtMs = startAtMs + (keys * 1000) / rate
    if (startAtMs > now) await new Promise((resolve) => setTimeout(resolve, startAtMs - now))
  }

  /**
   * Hands one key over from `source` to `target`: freeze, copy, strip (kv-service.ts).
   * A transaction's intent is settled first; true when this call moved the key.
   */
  private async handOver(item: StoredItem, task: MigrationTask, target: string): Promise<boolean> {
    if (item.movedTo !== undefined && item.value === undefined && !item.deleted) return false
    const from = this.store(task.region)
    const to = this.store(target)
    for (let attempt = 1; ; attempt++) {
      try {
        const frozen = await from.freeze(item.storageKey, target, task.ringVersion)
        if (!frozen) return false
        const stripped = frozen.value === undefined && !frozen.deleted
        const copied = stripped ? false : await to.copyIn(frozen, task.ringVersion)
        await from.strip(item.storageKey, frozen.version)
        return copied
      } catch (error) {
        // A later migration placed the key here again: this task is stale, leave the key.
        if (error instanceof StaleRingError) return false
        if (!(error instanceof KeyInTransactionError) || attempt >= 3) throw error
        // Roll the transaction forward or back through its record, then try again.
        await this.options.kv.settleIntent(item.storageKey, task.region)
      }
    }
  }

  private tasksOf(config: RingConfig): MigrationTask[] {
    const migration = config.migration
    if (!migration) return []
    return migration.sourceRegions.flatMap((region) =>
      Array.from({ length: migration.segments }, (_, segment) => ({
        ringVersion: migration.phase === 'moving' ? config.version : config.version + 1,
        region,
        segment,
        segments: migration.segments,
      })),
    )
  }

  private router(config: RingConfig): KeyRouter {
    return this.routerFactory({ ...layoutOf(config), version: config.version })
  }

  private store(region: string): RegionalStore {
    const store = this.options.kv.stores[region]
    if (!store) throw new InvalidRingConfigError(`no store for region ${region}`)
    return store
  }

  private async load(): Promise<RingConfig> {
    // The cache stores the initial config on a fresh deployment; then read the stored one.
    await this.options.kv.ringCache.current()
    const config = await this.options.ringStore.load()
    if (!config) throw new InvalidRingConfigError('no ring config is stored')
    return config
  }
}

/** Transactions take up to 100 writes and 4 MB: batches of 50 keys under 3 MB of values. */
const batchKeysMax = 50
function batchesOf(items: readonly StoredItem[]): StoredItem[][] {
  const batches: StoredItem[][] = []
  let batch: StoredItem[] = []
  let bytes = 0
  for (const item of items) {
    const size = (item.value?.byteLength ?? 0) + item.storageKey.length + 200
    if (batch.length === batchKeysMax || (batch.length > 0 && bytes + size > 3_000_000)) {
      batches.push(batch)
      batch = []
      bytes = 0
    }
    batch.push(item)
    bytes += size
  }
  if (batch.length > 0) batches.push(batch)
  return batches
}

const regionOf = (node: { region: string }) => node.region

function taskId(task: MigrationTask): string {
  return `${task.region}#${task.segment}`
}

/**
 * Runs `each` over `items`, at most `size` at a time (range tasks bound their concurrent
 * writes): a new one starts as soon as one ends, not when the slowest of a group does.
 * After a failure no new one starts; the first failure is thrown once those running end.
 */
export async function inBatches<T>(
  items: readonly T[],
  size: number,
  each: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  let failed = false
  const lanes = Array.from({ length: Math.max(1, Math.min(size, items.length)) }, async () => {
    while (!failed && next < items.length) {
      try {
        await each(items[next++]!)
      } catch (error) {
        failed = true
        throw error
      }
    }
  })
  const outcomes = await Promise.allSettled(lanes)
  const failure = outcomes.find((outcome) => outcome.status === 'rejected')
  if (failure) throw (failure as PromiseRejectedResult).reason
}
