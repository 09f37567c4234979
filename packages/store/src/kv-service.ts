// The KV service: validates input, routes `${tenant}#${key}` through the ring to the owning
// region's store (or, with replication, to the first R distinct regions of the key's
// preference list), and resolves transaction intents met on reads.
//
// Consistency by replication setting:
// - R = 1 (the default): each key lives in exactly one table. Reads are strongly consistent
//   GetItems and every write is one conditional UpdateItem, so operations on a key are
//   linearizable, compare-and-swap is atomic, and fences and intents are enforced inside the
//   write. This holds while every handler routes the key to the same region (see
//   ring-cache.ts for what a ring change does).
// - R > 1 with write quorum W and read quorum Rr = R - W + 1 (so W + Rr > R): a write first
//   reads Rr replicas, checks its expected version, fence and intents against the newest
//   answer, assigns version = newest + 1, and writes that version to all R replicas in
//   parallel; each replica accepts only a version above its own (replicas that missed
//   writes catch up). It succeeds at W acceptances. A read asks Rr replicas (the healthiest
//   first, see readQuorum) and returns the highest version; a lagging replica it met is
//   repaired in the background (read repair), and anti-entropy.ts repairs the rest. Because every read quorum meets every
//   successful write quorum, a read started after a write succeeded returns that write or a
//   later one (read-your-writes and monotonic versions), as long as no write is concurrent.
//   What breaks: compare-and-swap is not atomic across replicas. Two concurrent writers can
//   both read version v and both assign v + 1; each replica accepts whichever arrives first,
//   so one writer may win some replicas and the other the rest: both values then exist under
//   version v + 1, the loser is told it failed, yet a later read may return its value until
//   the next write supersedes both. A write that fails to reach W replicas may likewise
//   leave its value on fewer replicas and be read later. Fences are checked against the
//   read quorum and again by each replica, but the same race lets a stale holder's write
//   land on a replica the new holder has not reached. Use R = 1 for locks, CAS and
//   transactions; R > 1 buys availability (a replica down) for last-writer-wins data.
// Unconditional replicated writes that lose such a race are retried with a fresh read, up
// to writeAttemptsMax times.
//
// R > 1 while the ring migrates (see handOverReplicas for the per-key steps): a key whose
// replica set changes from O to N is handed over once, by a range task or by the first
// write that meets it: freeze the replicas leaving (O \ N), read the newest copy from them
// and the replicas staying (at least R - W + 1 of O, so every acknowledged write), copy it
// into every replica of N, then drop the frozen copies. Only then does a write go to N, and
// only N counts toward its quorum; a new replica counts toward a read quorum once the ring
// is stable, by which time every key it should hold was copied in. A read of a moving key
// asks a quorum of O, then one of N (a copy dropped from O was in N before the drop). A
// handler on an older ring is refused by a frozen copy, and by the gate wherever a leaving
// replica has no copy (absent, dropped, or to be created), so it reloads; what it can still
// write is the staying replicas, which are in N. Repairs never revive a frozen copy and
// create copies only behind the gate.
import {
  InvalidRingConfigError,
  ItemAbsentError,
  KeyInTransactionError,
  KeyMovedError,
  KeyNotFoundError,
  QuorumNotReachedError,
  RegionNotServedError,
  RingChangingError,
  StaleFenceError,
  StaleRingError,
  StoreError,
  VersionMismatchError,
} from './errors'
import { type Intent, storageKey } from './item-format'
import {
  assertValidContentType,
  assertValidKey,
  assertValidValue,
  defaultContentType,
} from './limits'
import { awaitQuorum } from './quorum'
import type { RegionalStore, StoredItem, WriteOptions, WriteResult } from './regional-store'
import type { CurrentRing, RingCache } from './ring-cache'
import type { KeyRouter, RingConfig, RingLayout, RingNode } from './ring-config'

/** What a reader that met an intent should see, decided by the transaction's record. */
export type IntentOutcome = 'committed' | 'aborted' | 'pending'

/**
 * The port through which the store asks the transactions package about an intent. An
 * implementation looks up the intent's transaction record and may roll it forward or back
 * (applying or removing the intent) before answering:
 * - 'committed': the reader sees the intent's write (its value, or absence for a delete) at
 *   version intent.baseVersion + 1;
 * - 'aborted' or 'pending': the reader sees the committed value (a pending transaction has
 *   not reached its commit point, so the read is ordered before it).
 * Without a resolver, readers see the committed value: reads stay correct for aborted and
 * pending transactions, but a committed transaction's write is invisible until its
 * participant applies the intent.
 */
export interface IntentResolver {
  /** `region` is the store the item was read from (where the intent is staged). */
  resolve(
    storageKey: string,
    item: StoredItem & { intent: Intent },
    region?: string,
  ): Promise<IntentOutcome>
}

export interface Replication {
  /** Replicas per key (R): distinct regions in the key's preference list. */
  replicas: number
  /** Acceptances a write needs (W); reads ask for R - W + 1 answers. */
  writeQuorum: number
}

export const writeAttemptsMax = 3

/** How old a version must be before a repair copies it (see repairGraceMs). */
export const defaultRepairGraceMs = 2_000

/** Tries (with a ring reload between them) before a request gives up on a moving ring. */
export const ringAttemptsMax = 5

export interface KvServiceOptions {
  /** One regional store per region, by region name. */
  stores: Readonly<Record<string, RegionalStore>>
  ring: RingCache
  replication?: Replication
  resolveIntent?: IntentResolver
  /** The region health view (a FailureDetector): which replicas to read, when to hedge. */
  health?: ReplicaHealth
  /** Called when a repair brought a lagging replica in `region` up to date. */
  onRepair?: (region: string, keys: number) => void
  /**
   * Read repair leaves a version younger than this alone (default 2 s): it may be a write
   * still on its way to that replica, which the repair would turn into a conflict.
   */
  repairGraceMs?: number
  nowMs?: () => number
}

/** What the quorum reads consult about regions (FailureDetector implements it). */
export interface ReplicaHealth {
  /** Lower is better: a recent latency estimate; Infinity for a region to avoid. */
  cost(region: string): number
  /** How long to wait for an answer before asking one more replica. */
  hedgeDelayMs(): number
}

export interface KvItem {
  key: string
  value: Uint8Array
  contentType: string
  version: number
}

export interface KvPutOptions {
  contentType?: string
  expectedVersion?: number | 'absent'
  fence?: number
}

export interface KvDeleteOptions {
  expectedVersion?: number
  fence?: number
}

export interface KeyOwners {
  storageKey: string
  ringVersion: number
  /** The nodes whose regions hold the key, in preference order (R of them). */
  owners: RingNode[]
}

interface Replica {
  node: RingNode
  store: RegionalStore
}

/** Where an R > 1 request goes: the key's replicas, and while that set changes, the old set. */
interface ReplicatedRoute {
  targets: Replica[]
  sources?: Replica[]
  ringVersion: number
}

/** Where an R = 1 request goes: the owner, and while the key moves, its old owner too. */
interface SingleRoute {
  target: Replica
  source?: Replica
  ringVersion: number
}

export class KvService {
  readonly replication: Replication
  readonly stores: Readonly<Record<string, RegionalStore>>
  private readonly ring: RingCache
  private readonly resolveIntent: IntentResolver | undefined
  private readonly health: ReplicaHealth | undefined
  private readonly onRepair: KvServiceOptions['onRepair']
  private readonly repairs = new Set<Promise<void>>()
  private readonly repairGraceMs: number
  private readonly nowMs: () => number

  constructor(options: KvServiceOptions) {
    this.stores = options.stores
    this.ring = options.ring
    this.resolveIntent = options.resolveIntent
    this.health = options.health
    this.onRepair = options.onRepair
    this.repairGraceMs = options.repairGraceMs ?? defaultRepairGraceMs
    this.nowMs = options.nowMs ?? Date.now
    this.replication = options.replication ?? { replicas: 1, writeQuorum: 1 }
    const { replicas, writeQuorum } = this.replication
    if (!(Number.isInteger(replicas) && replicas >= 1))
      throw new RangeError('replicas must be >= 1')
    if (!(Number.isInteger(writeQuorum) && writeQuorum >= 1 && writeQuorum <= replicas)) {
      throw new RangeError('writeQuorum must be between 1 and replicas')
    }
  }

  /** Checks that a ring config can serve this service: every region has a store, enough regions. */
  validateRing(config: RingLayout): void {
    if (config.nodes.length === 0)
      throw new InvalidRingConfigError('a ring needs at least one node')
    const regions = new Set<string>()
    for (const node of config.nodes) {
      if (!this.stores[node.region]) {
        throw new InvalidRingConfigError(
          `node ${node.id} names region ${node.region}, which has no store`,
        )
      }
      regions.add(node.region)
    }
    if (regions.size < this.replication.replicas) {
      throw new InvalidRingConfigError(
        `${this.replication.replicas} replicas need as many regions; the ring has ${regions.size}`,
      )
    }
  }

  /** The ring config handlers route by now (at most the cache's staleness bound old). */
  async ringConfig(): Promise<RingConfig> {
    return (await this.ring.current()).config
  }

  /** The ring cache this service routes by (the migration service shares it). */
  get ringCache(): RingCache {
    return this.ring
  }

  async owners(tenant: string, key: string): Promise<KeyOwners> {
    assertValidKey(key)
    const routed = storageKey(tenant, key)
    const { config, replicas } = await this.route(routed)
    return { storageKey: routed, ringVersion: config.version, owners: replicas.map((r) => r.node) }
  }

  /** The regions holding a storage key's replicas under the current ring, in preference order. */
  async replicaRegions(routed: string): Promise<string[]> {
    const { replicas } = await this.route(routed)
    return replicas.map((replica) => replica.node.region)
  }

  /** The key's value; throws KeyNotFoundError when it has none (never written, or deleted). */
  async get(tenant: string, key: string): Promise<KvItem> {
    assertValidKey(key)
    const routed = storageKey(tenant, key)
    if (this.replication.replicas === 1) {
      const { item, region } = await this.onCurrentRing(routed, (route) =>
        this.readRouted(routed, route),
      )
      return this.visible(key, routed, item, region)
    }
    const item = await this.onRing(
      (ring) => this.readReplicated(routed, this.replicatedRoute(routed, ring)),
      routed,
    )
    return this.visible(key, routed, item)
  }

  async put(
    tenant: string,
    key: string,
    value: Uint8Array,
    options: KvPutOptions = {},
  ): Promise<WriteResult> {
    assertValidKey(key)
    assertValidValue(value)
    const contentType = options.contentType ?? defaultContentType
    assertValidContentType(contentType)
    const routed = storageKey(tenant, key)
    const writeOptions = definedOnly({
      expectedVersion: options.expectedVersion,
      fence: options.fence,
    })
    const put = (store: RegionalStore, replicaOptions: WriteOptions) =>
      store.put(routed, { value, contentType }, replicaOptions)
    if (this.replication.replicas === 1) return this.writeSingle(routed, writeOptions, put)
    return this.writeReplicatedOnRing(routed, 'put', writeOptions, put)
  }

  async delete(tenant: string, key: string, options: KvDeleteOptions = {}): Promise<WriteResult> {
    assertValidKey(key)
    const routed = storageKey(tenant, key)
    const writeOptions = definedOnly({
      expectedVersion: options.expectedVersion,
      fence: options.fence,
    })
    const remove = (store: RegionalStore, replicaOptions: WriteOptions) =>
      store.delete(routed, replicaOptions)
    if (this.replication.replicas === 1) return this.writeSingle(routed, writeOptions, remove)
    return this.writeReplicatedOnRing(routed, 'delete', writeOptions, remove)
  }

  /**
   * Where a write of `routed` goes now (R = 1), after pulling the key from its old owner
   * when it is moving: transactions stage their intents there. The ring version goes with
   * the write to the store's gate.
   */
  async writePlacement(routed: string): Promise<{ region: string; ringVersion: number }> {
    return this.onCurrentRing(routed, async (route) => {
      if (route.source) await this.pull(routed, route)
      return { region: route.target.node.region, ringVersion: route.ringVersion }
    })
  }

  /**
   * Resolves the intent a ring migration met on `routed` in `region` through the resolver
   * (which may roll the transaction forward or back); true when none is left.
   */
  async settleIntent(routed: string, region: string): Promise<boolean> {
    const store = this.stores[region]
    if (!store) throw new InvalidRingConfigError(`no store for region ${region}`)
    const item = await store.get(routed)
    if (!item?.intent) return true
    if (!this.resolveIntent) return false
    await this.resolveIntent.resolve(routed, { ...item, intent: item.intent }, region)
    return !(await store.get(routed))?.intent
  }

  /*
   * R = 1 while the ring migrates (the handover; ring-migration.ts runs it for every key):
   *   1. freeze the old owner's copy (movedTo = new region; refused while an intent is held,
   *      and to a handler whose ring is older than the copy's placement);
   *   2. copy it into the new owner unless that holds the key at the same or a newer version;
   *   3. strip the frozen copy's value (the marker stays, so stale handlers are sent on).
   * Each step is one conditional write and safe to repeat, by anyone, after a crash at any
   * point. A write first updates the old owner's copy if it is not frozen yet (requireItem:
   * never a create there), else goes to the new owner (requireItem until the key is there,
   * pulling it first when it isn't), so the one table accepting writes changes at step 1 and
   * nowhere else, and a key not yet moved costs one call, as without a migration. A key with no copy at its
   * old owner has nothing to move: the gates (raised before anyone routes by the new ring)
   * keep handlers on the old ring from creating it there.
   */
  private async pull(routed: string, route: SingleRoute): Promise<void> {
    const { source, target, ringVersion } = route
    if (!source) return
    const frozen = await source.store.freeze(routed, target.node.region, ringVersion)
    if (!frozen) return
    const stripped = frozen.value === undefined && !frozen.deleted
    if (!stripped) await target.store.copyIn(frozen, ringVersion)
    await source.store.strip(routed, frozen.version)
  }

  /**
   * The key's one live copy (or a frozen one not yet copied) and the region it was read in.
   * A moving key is read from both owners at once: a copy that isn't frozen at the old owner
   * is the live one at that instant (nothing was copied yet), else the new owner's.
   */
  private async readRouted(
    routed: string,
    route: SingleRoute,
  ): Promise<{ item: StoredItem | undefined; region: string }> {
    const target = route.target.node.region
    if (!route.source) {
      const item = await route.target.store.get(routed, { ringVersion: route.ringVersion })
      if (item?.movedTo) throw new KeyMovedError(routed, item.movedTo)
      return { item, region: target }
    }
    const source = route.source.node.region
    const [atTarget, atSource] = await Promise.allSettled([
      route.target.store.get(routed, { ringVersion: route.ringVersion }),
      route.source.store.get(routed),
    ])
    const item = atTarget.status === 'fulfilled' ? atTarget.value : undefined
    if (item && !item.movedTo) return { item, region: target }
    if (atSource.status === 'rejected') throw atSource.reason
    const old = atSource.value
    if (!old?.movedTo) {
      if (atTarget.status === 'rejected' && !old) throw atTarget.reason
      return { item: old, region: source }
    }
    // Frozen at the old owner: the new owner has it now, or gets it from the frozen copy.
    const again = await route.target.store.get(routed)
    if (again && !again.movedTo) return { item: again, region: target }
    if (old.value !== undefined || old.deleted) return { item: old, region: source }
    throw new StoreError(`${JSON.stringify(routed)} was stripped but is not at ${old.movedTo}`)
  }

  private async writeSingle(
    routed: string,
    options: WriteOptions,
    write: (store: RegionalStore, options: WriteOptions) => Promise<WriteResult>,
  ): Promise<WriteResult> {
    return this.onCurrentRing(routed, async (route) => {
      const routedOptions = { ...options, ringVersion: route.ringVersion }
      if (route.source) {
        // Until the old owner freezes the key, its copy is the one live copy: update it there
        // (one call, as without a migration). Frozen there: the new owner's turn. No copy at
        // all there (no marker either): nothing to pull, and the gate keeps it so, so the
        // write goes to the new owner directly.
        try {
          return await write(route.source.store, { ...routedOptions, requireItem: true })
        } catch (error) {
          if (error instanceof ItemAbsentError) return write(route.target.store, routedOptions)
          if (!(error instanceof KeyMovedError)) throw error
        }
        try {
          return await write(route.target.store, { ...routedOptions, requireItem: true })
        } catch (error) {
          const notHereYet =
            error instanceof ItemAbsentError ||
            (error instanceof KeyMovedError && error.region === route.source.node.region)
          if (!notHereYet) throw error
        }
        await this.pull(routed, route)
      }
      return write(route.target.store, routedOptions)
    })
  }

  /** Runs `operation` on the key's route, reloading the ring when a store says it is stale. */
  private onCurrentRing<T>(
    routed: string,
    operation: (route: SingleRoute) => Promise<T>,
  ): Promise<T> {
    return this.onRing((ring) => operation(this.singleRoute(routed, ring)), routed)
  }

  /** Runs `operation` on the current ring, reloading it when a store says it is stale. */
  private async onRing<T>(operation: (ring: CurrentRing) => Promise<T>, routed = ''): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const ring = attempt === 1 ? await this.ring.current() : await this.ring.refresh()
      try {
        return await operation(ring)
      } catch (error) {
        if (!(error instanceof KeyMovedError || error instanceof StaleRingError)) throw error
        if (attempt >= ringAttemptsMax) {
          throw new RingChangingError(`${JSON.stringify(routed)} is moving; retry shortly`, {
            cause: error,
          })
        }
        // A migration between its first two steps: give it a moment before reloading.
        await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt))
      }
    }
  }

  private singleRoute(routed: string, ring: CurrentRing): SingleRoute {
    const replica = (node: RingNode | undefined): Replica => {
      if (!node) throw new InvalidRingConfigError(`no owner for ${routed}`)
      const store = this.stores[node.region]
      if (!store) {
        throw new RegionNotServedError(
          node.region,
          `no store for ${node.region}, the owner of ${routed}`,
        )
      }
      return { node, store }
    }
    const target = replica(ring.router.preferenceList(routed, 1)[0])
    const route: SingleRoute = { target, ringVersion: ring.routeVersion }
    const oldNode = ring.previous?.preferenceList(routed, 1)[0]
    if (oldNode && oldNode.region !== target.node.region) route.source = replica(oldNode)
    return route
  }

  private async route(routed: string): Promise<{ config: RingConfig; replicas: Replica[] }> {
    const ring = await this.ring.current()
    const replicas = this.replicaNodes(routed, ring).map((node) => {
      const store = this.stores[node.region]
      if (!store) throw new RegionNotServedError(node.region, `no store for region ${node.region}`)
      return { node, store }
    })
    return { config: ring.config, replicas }
  }

  /** The key's R replica nodes under `ring`: the first R distinct regions of its preference list. */
  private replicaNodes(routed: string, ring: CurrentRing): RingNode[] {
    // While gating, the router is the old ring's, which may have more nodes than the new.
    const nodeCount = ring.config.nodes.length + (ring.config.migration?.from.nodes.length ?? 0)
    return replicaNodesOf(ring.router, routed, this.replication.replicas, nodeCount)
  }

  /** An R > 1 request's replicas, with the old ones while the key's replica set changes. */
  private replicatedRoute(routed: string, ring: CurrentRing): ReplicatedRoute {
    const replica = (node: RingNode): Replica => {
      const store = this.stores[node.region]
      if (!store) throw new RegionNotServedError(node.region, `no store for region ${node.region}`)
      return { node, store }
    }
    const targets = this.replicaNodes(routed, ring).map(replica)
    const route: ReplicatedRoute = { targets, ringVersion: ring.routeVersion }
    const from = ring.config.migration?.from
    if (ring.previous && from) {
      const old = replicaNodesOf(
        ring.previous,
        routed,
        this.replication.replicas,
        from.nodes.length,
      )
      const regions = new Set(targets.map((target) => target.node.region))
      if (old.some((node) => !regions.has(node.region))) route.sources = old.map(replica)
    }
    return route
  }

  /**
   * An R > 1 read: a quorum of the key's replicas; while its replica set changes, a quorum
   * of the old replicas first and then one of the new (no repairs: the handover copies).
   */
  private async readReplicated(
    routed: string,
    route: ReplicatedRoute,
  ): Promise<StoredItem | undefined> {
    if (!route.sources) return this.readQuorum(routed, route.targets, route.ringVersion)
    // In this order: a copy gone from the old replicas was dropped only after every new
    // replica took it, so the read of the new ones that follows meets it.
    const old = await this.readQuorum(routed, route.sources, route.ringVersion, false)
    const current = await this.readQuorum(routed, route.targets, route.ringVersion, false)
    return newest([old, current])
  }

  /**
   * An R > 1 write on the current ring: a key whose replica set changes is handed over
   * first (once; later calls find nothing left to move), then written to its new replicas.
   */
  private writeReplicatedOnRing(
    routed: string,
    operation: 'put' | 'delete',
    options: WriteOptions,
    write: (store: RegionalStore, replicaOptions: WriteOptions) => Promise<WriteResult>,
  ): Promise<WriteResult> {
    return this.onRing(async (ring) => {
      const route = this.replicatedRoute(routed, ring)
      if (route.sources) {
        await this.handOverReplicas(
          routed,
          route.sources.map((source) => source.node.region),
          route.targets.map((target) => target.node.region),
          route.ringVersion,
        )
      }
      return this.writeReplicated(
        routed,
        route.targets,
        route.ringVersion,
        operation,
        options,
        write,
      )
    }, routed)
  }

  /**
   * Hands an R > 1 key over from its old replicas (`from`) to its new ones (`to`), for the
   * migration whose moving ring is `ringVersion`; true when it copied anything. Each step is
   * conditional and safe to repeat, by a range task or a writer, after a crash at any point:
   *   1. freeze every leaving replica (in `from`, not in `to`). Each must answer: a region
   *      that can't be reached blocks the move of its keys (the task is retried) rather than
   *      leaving a copy a handler on an older ring could still write;
   *   2. read the staying replicas; with the frozen copies that is at least R - W + 1 of
   *      the old replicas, so the newest answer includes every acknowledged write;
   *   3. copy it into every new replica (never over a newer version): each holds the key
   *      before it counts toward a quorum;
   *   4. drop the frozen copies. A handler on an older ring then meets the gate there.
   * A transaction's intent on a leaving replica is settled first, as for R = 1.
   */
  async handOverReplicas(
    routed: string,
    from: readonly string[],
    to: readonly string[],
    ringVersion: number,
  ): Promise<boolean> {
    const leaving = from.filter((region) => !to.includes(region))
    const staying = from.filter((region) => to.includes(region))
    const needed = this.replication.replicas - this.replication.writeQuorum + 1
    for (let attempt = 1; ; attempt++) {
      try {
        const frozen = await Promise.all(
          leaving.map((region) => this.storeOf(region).freeze(routed, to[0]!, ringVersion)),
        )
        const read = await Promise.allSettled(
          staying.map((region) => this.storeOf(region).get(routed)),
        )
        const answers = read.flatMap((answer) =>
          answer.status === 'fulfilled' ? [answer.value] : [],
        )
        if (frozen.length + answers.length < needed) {
          const failures = read.flatMap((answer) =>
            answer.status === 'rejected' ? [answer.reason] : [],
          )
          throw new QuorumNotReachedError(routed, needed, frozen.length + answers.length, failures)
        }
        const best = newest([...frozen, ...answers])
        let copied = false
        if (best && (best.value !== undefined || best.deleted)) {
          const wrote = await Promise.all(
            to.map((region) => this.storeOf(region).copyIn(best, ringVersion)),
          )
          copied = wrote.some(Boolean)
        }
        await Promise.all(
          frozen.flatMap((item, index) =>
            item ? [this.storeOf(leaving[index]!).drop(routed, item.version)] : [],
          ),
        )
        return copied
      } catch (error) {
        if (!(error instanceof KeyInTransactionError) || attempt >= 3) throw error
        // Roll the transaction forward or back through its record, then try again.
        await Promise.all(leaving.map((region) => this.settleIntent(routed, region)))
      }
    }
  }

  private storeOf(region: string): RegionalStore {
    const store = this.stores[region]
    if (!store) throw new RegionNotServedError(region, `no store for region ${region}`)
    return store
  }

  /**
   * Where a request for the key would go now, without touching a store: the regions of its
   * replicas (R = 1: its owner) under the ring handlers route by, and whether the ring is
   * migrating (then an R = 1 request may also reach the key's old owner). A regional API
   * serves a key itself only when this names its own region alone and the ring is stable.
   */
  async placement(
    tenant: string,
    key: string,
  ): Promise<{ ringVersion: number; migrating: boolean; regions: string[] }> {
    assertValidKey(key)
    const ring = await this.ring.current()
    const regions = this.replicaNodes(storageKey(tenant, key), ring).map((node) => node.region)
    return {
      ringVersion: ring.config.version,
      migrating: ring.config.migration !== undefined || ring.previous !== undefined,
      regions,
    }
  }

  /**
   * Asks R - W + 1 replicas and answers with the newest answer. Any R - W + 1 replicas meet
   * every write quorum (W of R), so it asks the cheapest ones first (by the region health
   * view: a suspected region last, a slow one after the fast ones), replaces each replica
   * that fails with the next one, and asks one more whenever an answer takes longer than
   * the hedge delay (a region turning slow costs that delay, not its latency). Replicas that
   * answered with an older version (or nothing) are brought up to date in the background:
   * read repair, each a conditional copy that never replaces a newer version, of a version
   * older than repairGraceMs (a younger one may be a write still under way to that replica:
   * copying it first would make that write's own call fail as a conflict).
   */
  private async readQuorum(
    routed: string,
    replicas: Replica[],
    ringVersion: number,
    repair = true,
  ): Promise<StoredItem | undefined> {
    const needed = this.replication.replicas - this.replication.writeQuorum + 1
    const ordered = this.byCost(replicas)
    const answers: Array<{ replica: Replica; item: StoredItem | undefined }> = []
    const failures: unknown[] = []
    let next = 0
    let inFlight = 0
    let hedges = 0
    await new Promise<void>((resolve) => {
      let hedge: ReturnType<typeof setTimeout> | undefined
      let done = false
      const settle = () => {
        if (done) return
        const exhausted = inFlight === 0 && next >= ordered.length
        if (answers.length >= needed || exhausted) {
          done = true
          clearTimeout(hedge)
          resolve()
        } else launch()
      }
      const armHedge = () => {
        if (!this.health || next >= ordered.length) return
        hedge = setTimeout(() => {
          hedges++
          launch()
          armHedge()
        }, this.health.hedgeDelayMs())
        hedge.unref?.()
      }
      const launch = () => {
        while (inFlight < needed - answers.length + hedges && next < ordered.length) {
          const replica = ordered[next++]!
          inFlight++
          replica.store
            .get(routed, { ringVersion })
            .then(
              (item) => void answers.push({ replica, item }),
              (error) => void failures.push(error),
            )
            .finally(() => {
              inFlight--
              settle()
            })
        }
      }
      launch()
      armHedge()
    })
    // A replica on a newer ring than ours (its gate, a copy it froze): reload and ask again.
    const stale = failures.find((failure) => failure instanceof StaleRingError)
    if (stale) throw stale
    if (answers.length < needed) {
      throw new QuorumNotReachedError(routed, needed, answers.length, failures)
    }
    const quorum = answers.slice(0, needed)
    const best = newest(quorum.map((answer) => answer.item))
    const settled = (best?.updatedAtMs ?? 0) <= this.nowMs() - this.repairGraceMs
    if (repair && best && !best.intent && best.movedTo === undefined && settled) {
      const lagging = quorum.filter(({ item }) => !item || item.version < best.version)
      for (const { replica } of lagging) this.repairInBackground(replica, best, ringVersion)
    }
    return best
  }

  /** Replicas cheapest first (preference order among equals), when a health view is given. */
  private byCost(replicas: Replica[]): Replica[] {
    const health = this.health
    if (!health) return replicas
    return replicas
      .map((replica, index) => ({ replica, index, cost: health.cost(replica.node.region) }))
      .sort((a, b) => a.cost - b.cost || a.index - b.index)
      .map(({ replica }) => replica)
  }

  private repairInBackground(replica: Replica, item: StoredItem, ringVersion: number): void {
    const repair = replica.store
      .copyIn(item, ringVersion, { repair: true })
      .then((wrote) => {
        if (wrote) this.onRepair?.(replica.node.region, 1)
      })
      // A failed repair changes nothing; anti-entropy (or the next read) tries again.
      .catch(() => undefined)
      .finally(() => this.repairs.delete(repair))
    this.repairs.add(repair)
  }

  /** Resolves when the read repairs started so far have finished (tests, benches, shutdown). */
  async repairsSettled(): Promise<void> {
    while (this.repairs.size > 0) await Promise.all([...this.repairs])
  }

  private async visible(
    key: string,
    routed: string,
    item: StoredItem | undefined,
    region?: string,
  ): Promise<KvItem> {
    if (item?.intent && this.resolveIntent) {
      const intent = item.intent
      const outcome = await this.resolveIntent.resolve(routed, { ...item, intent }, region)
      if (outcome === 'committed') {
        const version = intent.baseVersion + 1
        if (intent.operation === 'delete' || intent.value === undefined)
          throw new KeyNotFoundError(routed, version)
        return {
          key,
          value: intent.value,
          contentType: intent.contentType ?? defaultContentType,
          version,
        }
      }
    }
    if (!item || item.deleted || item.value === undefined)
      throw new KeyNotFoundError(routed, item?.version)
    return {
      key,
      value: item.value,
      contentType: item.contentType ?? defaultContentType,
      version: item.version,
    }
  }

  /*
   * A replicated write (R > 1), its timeline:
   *   1. read R - W + 1 replicas; the newest answer stands for the key's current state;
   *   2. check intent, fence, expected version and (for a delete) liveness against it, so a
   *      write that would fail fails before touching any replica;
   *   3. assign version = newest + 1 and send the write to all R replicas in parallel, each a
   *      conditional write that also requires the replica's version to be lower;
   *   4. succeed at W acceptances; otherwise report the conflict a replica gave (or
   *      QuorumNotReachedError when replicas failed), after retrying an unconditional write
   *      that lost a race with a fresh read, up to writeAttemptsMax attempts.
   */
  private async writeReplicated(
    routed: string,
    replicas: Replica[],
    ringVersion: number,
    operation: 'put' | 'delete',
    options: WriteOptions,
    /** Writes one replica; replicas get the assigned version and fence, never expectedVersion. */
    write: (store: RegionalStore, replicaOptions: WriteOptions) => Promise<WriteResult>,
  ): Promise<WriteResult> {
    const needed = this.replication.writeQuorum
    for (let attempt = 1; ; attempt++) {
      const current = await this.readQuorum(routed, replicas, ringVersion)
      checkBeforeWrite(routed, operation, options, current)
      const assignedVersion = (current?.version ?? 0) + 1
      const created = !isLive(current)
      const outcome = await awaitQuorum(
        replicas.map((replica) =>
          write(replica.store, definedOnly({ assignedVersion, fence: options.fence, ringVersion })),
        ),
        needed,
      )
      if (outcome.reached)
        return { version: assignedVersion, created: operation === 'put' && created }
      // Refused for a ring newer than ours (a gate, a frozen copy): reload and try again.
      const stale = outcome.failures.find(
        (failure) => failure instanceof StaleRingError || failure instanceof KeyMovedError,
      )
      if (stale) throw stale
      const conflict = outcome.failures.find(
        (failure) =>
          failure instanceof VersionMismatchError ||
          failure instanceof StaleFenceError ||
          failure instanceof KeyInTransactionError,
      )
      if (conflict instanceof VersionMismatchError) {
        if (options.expectedVersion === undefined && attempt < writeAttemptsMax) continue
        throw new VersionMismatchError(
          routed,
          options.expectedVersion ?? assignedVersion - 1,
          conflict.actualVersion,
          { cause: conflict },
        )
      }
      if (conflict) throw conflict
      throw new QuorumNotReachedError(routed, needed, outcome.successes.length, outcome.failures)
    }
  }
}

function checkBeforeWrite(
  routed: string,
  operation: 'put' | 'delete',
  options: WriteOptions,
  current: StoredItem | undefined,
): void {
  if (current?.intent) throw new KeyInTransactionError(routed, current.intent.transactionId)
  if (
    options.fence !== undefined &&
    current?.fence !== undefined &&
    options.fence < current.fence
  ) {
    throw new StaleFenceError(routed, options.fence, current.fence)
  }
  const expected = options.expectedVersion
  if (expected === 'absent' && isLive(current)) {
    throw new VersionMismatchError(routed, expected, current?.version)
  }
  if (typeof expected === 'number' && (!isLive(current) || current?.version !== expected)) {
    throw new VersionMismatchError(routed, expected, current?.version)
  }
  if (operation === 'delete' && !isLive(current))
    throw new KeyNotFoundError(routed, current?.version)
}

function isLive(item: StoredItem | undefined): boolean {
  return item !== undefined && !item.deleted && item.version > 0
}

/** The answer with the highest version; its fence is raised to the highest any answer recorded. */
function newest(items: readonly (StoredItem | undefined)[]): StoredItem | undefined {
  let best: StoredItem | undefined
  let fence: number | undefined
  for (const item of items) {
    // A stripped copy (a marker with no value) holds nothing to read.
    if (!item || (item.movedTo !== undefined && item.value === undefined && !item.deleted)) continue
    if (!best || item.version > best.version) best = item
    if (item.fence !== undefined && (fence === undefined || item.fence > fence)) fence = item.fence
  }
  return best && fence !== undefined ? { ...best, fence } : best
}

/** The first `replicas` distinct regions of a key's preference list under `router`. */
export function replicaNodesOf(
  router: KeyRouter,
  routed: string,
  replicas: number,
  nodeCount: number,
): RingNode[] {
  let nodes = router.preferenceList(routed, replicas)
  if (distinctRegions(nodes).length < replicas) nodes = router.preferenceList(routed, nodeCount)
  const distinct = distinctRegions(nodes).slice(0, replicas)
  if (distinct.length < replicas) {
    throw new InvalidRingConfigError(`the ring has fewer than ${replicas} regions`)
  }
  return distinct
}

function distinctRegions(nodes: readonly RingNode[]): RingNode[] {
  const seen = new Set<string>()
  return nodes.filter((node) => {
    if (seen.has(node.region)) return false
    seen.add(node.region)
    return true
  })
}

function definedOnly<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T
}
