// Anti-entropy for replicated keys (R > 1): replicas that missed writes (a region was down
// or slow, a write reached only W of R) converge without further writes.
//
// The work is split into range tasks, the Scan segments ring migrations use: a task lists
// segment `segment` of `segments` of one region's table a page at a time (strongly
// consistent), reads the same keys from their other replicas (the first R distinct regions
// of each key's preference list) in batches of 100 (BatchGetItem), and compares versions.
// Where a replica holds an older version, or none, the newest copy (a value or a tombstone)
// is written to it with copyIn: a conditional write that applies only over an older
// version, so a repair never replaces a newer write that landed meanwhile, and repairs of
// the same key from several tasks (a re-delivered task, a crashed worker's task run again,
// two rounds at once) write each missing version at most once between them. A repair never
// replaces a frozen copy and creates a missing one only behind the table's gate, so a round
// that overlaps a ring migration can't revive a copy the migration moved away. A version
// younger than the grace period (2 s) is left to the next round: it may be a write still on
// its way to the lagging replica, and copying it first would fail that write's own call. A round has
// one task per segment of every region's table, so a key is found from every replica that
// holds a copy (a replica that lacks one is found from the others).
//
// Cost: a round reads every copy once by Scan and once more per other replica by batched
// reads, and writes only the differences. Why no range digests: comparing per-range
// digests needs the same range in every table, and a Scan segment is not that (DynamoDB
// Local puts a key in different segments in different tables; region-failure.test.ts saw
// it); ranges by ring position would need a position index on every table. The batched
// comparison is what remains cheap without one.
import { StoreError } from './errors'
import { defaultRepairGraceMs, type KvService } from './kv-service'
import type { RegionalStore, StoredItem } from './regional-store'
import { inBatches } from './ring-migration'

/** One range task of a repair round: a Scan segment of one region's table. */
export interface RepairTask {
  kind: 'repair'
  region: string
  segment: number
  segments: number
}

export interface RepairCounts {
  /** Copies the Scan listed. */
  scanned: number
  /** Keys compared across their replicas. */
  keys: number
  /** Lagging replicas brought up to date (one per key and region written). */
  repaired: number
  /** Repairs that failed (the next round tries again). */
  failed: number
  /** Keys left to the next round: their newest version is younger than the grace period. */
  deferred: number
}

export interface AntiEntropyOptions {
  kv: KvService
  /** Range tasks per round (Scan segments per table). */
  segments?: number
  /** Keys repaired at once within a task. */
  concurrency?: number
  onRepair?: (region: string, keys: number) => void
  /** Versions younger than this are left alone (writes under way); default 2 s. */
  graceMs?: number
  nowMs?: () => number
}

export const defaultRepairSegments = 8

export class AntiEntropy {
  constructor(private readonly options: AntiEntropyOptions) {}

  /** The range tasks of one round: every segment of every region's table. */
  tasks(): RepairTask[] {
    const segments = this.options.segments ?? defaultRepairSegments
    return Object.keys(this.options.kv.stores).flatMap((region) =>
      Array.from({ length: segments }, (_, segment) => ({
        kind: 'repair' as const,
        region,
        segment,
        segments,
      })),
    )
  }

  /** A whole round, range after range (the local runtime and tests; AWS fans tasks out). */
  async repairAll(): Promise<RepairCounts> {
    const total: RepairCounts = { scanned: 0, keys: 0, repaired: 0, failed: 0, deferred: 0 }
    for (const task of this.tasks()) {
      const counts = await this.run(task)
      for (const name of Object.keys(total) as Array<keyof RepairCounts>)
        total[name] += counts[name]
    }
    return total
  }

  /** Compares and repairs one range. Safe to run twice, at once, or after a crash. */
  async run(task: RepairTask): Promise<RepairCounts> {
    const { kv } = this.options
    const counts: RepairCounts = { scanned: 0, keys: 0, repaired: 0, failed: 0, deferred: 0 }
    if (kv.replication.replicas < 2) return counts
    const graceMs = this.options.graceMs ?? defaultRepairGraceMs
    const nowMs = this.options.nowMs ?? Date.now
    // The version this handler routes by: a repair that would create a copy passes the gate
    // with it, so one on a ring older than a running migration creates nothing.
    const { routeVersion: ringVersion } = await kv.ringCache.current()
    for await (const page of this.store(task.region).scan(task.segment, task.segments)) {
      counts.scanned += page.length
      // Each listed key with its replica regions (a copy outside them is not a replica).
      const listed: Array<{ item: StoredItem; replicas: string[] }> = []
      const askOf = new Map<string, string[]>()
      for (const item of page) {
        const replicas = await kv.replicaRegions(item.storageKey)
        if (!replicas.includes(task.region)) continue
        listed.push({ item, replicas })
        for (const region of replicas) {
          if (region !== task.region)
            askOf.set(region, [...(askOf.get(region) ?? []), item.storageKey])
        }
      }
      const answers = new Map(
        await Promise.all(
          [...askOf].map(
            async ([region, keys]) => [region, await this.store(region).getMany(keys)] as const,
          ),
        ),
      )
      const work: Array<() => Promise<void>> = []
      for (const { item, replicas } of listed) {
        counts.keys++
        const copies = replicas.map((region) => ({
          region,
          copy: region === task.region ? item : answers.get(region)?.get(item.storageKey),
        }))
        const best = newestCopy(copies.map(({ copy }) => copy))
        if (!best) continue
        const lagging = copies.some(({ copy }) => !copy || copy.version < best.version)
        if (lagging && (best.updatedAtMs ?? 0) > nowMs() - graceMs) {
          counts.deferred++
          continue
        }
        for (const { region, copy } of copies) {
          if (copy && copy.version >= best.version) continue
          work.push(async () => {
            try {
              if (await this.store(region).copyIn(best, ringVersion, { repair: true })) {
                counts.repaired++
                this.options.onRepair?.(region, 1)
              }
            } catch {
              counts.failed++
            }
          })
        }
      }
      await inBatches(work, this.options.concurrency ?? 16, (each) => each())
    }
    return counts
  }

  private store(region: string): RegionalStore {
    const store = this.options.kv.stores[region]
    if (!store) throw new StoreError(`no store for region ${region}`)
    return store
  }
}

/**
 * The newest plain copy of a key, or undefined when there is nothing a repair may copy:
 * no copy, or copies in the middle of a transaction or a ring handover (those are settled
 * by their own protocols, never by a repair).
 */
function newestCopy(items: readonly (StoredItem | undefined)[]): StoredItem | undefined {
  let best: StoredItem | undefined
  for (const item of items) {
    if (!item) continue
    if (item.intent || item.movedTo !== undefined) return undefined
    if (!best || item.version > best.version) best = item
  }
  if (!best) return undefined
  // The highest fence any replica recorded goes with the copy (a fence never decreases).
  const fence = Math.max(...items.map((item) => item?.fence ?? Number.NEGATIVE_INFINITY))
  return Number.isFinite(fence) ? { ...best, fence } : best
}
