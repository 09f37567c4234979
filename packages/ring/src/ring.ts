/**
 * The ring: a validated config turned into lookup tables. Building is deterministic and
 * independent of node order (nodes are indexed by id), so every process that builds a ring
 * from the same config answers every question identically.
 */
import { type BoundedChoice, boundedOwnerIndex } from './bounded-load.ts'
import { CandidateWalk } from './candidate-walk.ts'
import {
  compareCodePoints,
  type ResolvedRingConfig,
  type RingConfig,
  type RingNode,
  resolveRingConfig,
  vnodeCountOf,
} from './config.ts'
import { digest, digestWords, keyPosition, positionCount, positionOf } from './hash.ts'
import { PreferenceLists, topologyOf } from './preference-list.ts'
import {
  buildRanges,
  mixedBucket,
  type RangeTable,
  rangeCountBound,
  rangeOwnerAt,
} from './range-table.ts'
import { buildTable, ownerIndexAt, type RingTable } from './ring-table.ts'
import { vnodeSeedOf } from './vnode.ts'

/**
 * Rings whose range table would start from at most this many ranges keep it and answer most
 * lookups with one array read; larger rings probe instead (probeCount successor searches per
 * lookup), because the table costs build time and memory per range: a 60-node ring's ~250,000
 * ranges take ~30 ms and ~3 MB here. 2^18 covers rings of up to ~60 nodes by default.
 */
export const rangeTableRangeCountMax = 2 ** 18

export const defaultLoadFactor = 1.25

// Module-private aliases for the lookup path; see the note on constants in hash.ts.
const lastDigest = digestWords
const searchMarker: number = mixedBucket

export interface BoundedLookup {
  readonly node: RingNode
  /** False when no node had room under the cap and the fallback chose (see bounded-load.ts). */
  readonly withinCapacity: boolean
}

export class Ring {
  readonly version: number
  /** The nodes in config order, weights filled in. */
  readonly nodes: readonly RingNode[]
  readonly vnodesPerWeight: number
  readonly probeCount: number
  /** @internal Nodes by index: ascending id by code point, the order every tie-break uses. */
  readonly nodesByIndex: readonly RingNode[]
  /** The range table's direct owners (empty without one); see RangeTable.directOwners. */
  private readonly directOwners: Uint8Array
  private readonly directShift: number
  /** @internal */
  readonly table: RingTable
  /** @internal Present for rings small enough to keep it (see rangeTableRangeCountMax). */
  readonly ranges: RangeTable | undefined
  private readonly indexById: ReadonlyMap<string, number>
  private readonly walk: CandidateWalk
  private readonly preferenceLists: PreferenceLists
  private readonly weights: readonly number[]
  private readonly totalWeight: number

  /** Validates `config` (throws RingConfigError) and builds the ring. */
  constructor(config: RingConfig) {
    const resolved: ResolvedRingConfig = resolveRingConfig(config)
    this.version = resolved.version
    // resolveRingConfig made these node objects; frozen, lookups can hand them out safely.
    this.nodes = Object.freeze(resolved.nodes.map((node) => Object.freeze(node)))
    this.vnodesPerWeight = resolved.vnodesPerWeight
    this.probeCount = resolved.probeCount
    // Not frozen: element loads from a frozen array measured ~7 ns slower per lookup.
    this.nodesByIndex = [...this.nodes].sort((left, right) => compareCodePoints(left.id, right.id))
    this.indexById = new Map(this.nodesByIndex.map((node, index) => [node.id, index]))
    this.weights = this.nodesByIndex.map((node) => node.weight)
    this.totalWeight = this.weights.reduce((sum, weight) => sum + weight, 0)
    this.table = buildTable(
      this.nodesByIndex.map((node) => vnodeSeedOf(node.id)),
      this.nodesByIndex.map((node) => vnodeCountOf(node.weight, this.vnodesPerWeight)),
      this.probeCount,
    )
    this.ranges =
      this.probeCount > 1 && rangeCountBound(this.table) <= rangeTableRangeCountMax
        ? buildRanges(this.table)
        : undefined
    this.directOwners = this.ranges?.directOwners ?? new Uint8Array(2).fill(mixedBucket)
    this.directShift = this.ranges?.directShift ?? 31
    this.walk = new CandidateWalk(this.table, this.nodesByIndex.length)
    this.preferenceLists = new PreferenceLists(this.walk, topologyOf(this.nodesByIndex))
  }

  /** The node that owns `key`. */
  lookup(key: string): RingNode {
    digest(key)
    const high = lastDigest[0]!
    // Rings without a range table have a two-entry direct table that always says "search".
    const owner = this.directOwners[high >>> this.directShift]!
    if (owner !== searchMarker) return this.nodesByIndex[owner]!
    return this.nodesByIndex[this.ownerIndexAt(positionOf(high, lastDigest[1]!))]!
  }

  /** The node that owns ring position `position`, an integer in [0, 2^53) (see keyPosition). */
  nodeAt(position: number): RingNode {
    assertPosition(position)
    return this.nodesByIndex[this.ownerIndexAt(position)]!
  }

  /**
   * Up to `replicaCount` distinct nodes for `key`, the owner first, spread over distinct
   * regions, then zones, when there are enough (see preference-list.ts). Asking for more
   * replicas than there are nodes (Infinity included) returns every node.
   */
  preferenceList(key: string, replicaCount: number): RingNode[] {
    const countable = Number.isInteger(replicaCount) || replicaCount === Number.POSITIVE_INFINITY
    if (!countable || replicaCount < 0) {
      throw new RangeError(`replicaCount must be a non-negative integer, got ${replicaCount}`)
    }
    const indices = this.preferenceLists.indices(keyPosition(key), replicaCount)
    return indices.map((index) => this.nodesByIndex[index]!)
  }

  /**
   * The first node in `key`'s order of preference whose load stays within `loadFactor` × its
   * weighted share of the mean (see bounded-load.ts). `loads` maps node ids to their current
   * load; missing ids count as 0 and unknown ids are ignored. Never throws over the loads: when
   * the cap cannot be met it falls back and reports `withinCapacity: false`. O(nodes) per call.
   */
  lookupBounded(
    key: string,
    loads: ReadonlyMap<string, number>,
    loadFactor: number = defaultLoadFactor,
  ): BoundedLookup {
    if (!Number.isFinite(loadFactor) || loadFactor < 1) {
      throw new RangeError(`loadFactor must be a finite number ≥ 1, got ${loadFactor}`)
    }
    const loadByIndex = new Float64Array(this.nodesByIndex.length)
    for (const [id, load] of loads) {
      const index = this.indexById.get(id)
      if (index === undefined) continue
      loadByIndex[index] = Number.isFinite(load) && load >= 0 ? load : Number.POSITIVE_INFINITY
    }
    const choice: BoundedChoice = boundedOwnerIndex(
      this.walk,
      keyPosition(key),
      loadByIndex,
      this.weights,
      this.totalWeight,
      loadFactor,
    )
    return { node: this.nodesByIndex[choice.index]!, withinCapacity: choice.withinCapacity }
  }

  /** The node with this id, if it is in the ring. */
  node(id: string): RingNode | undefined {
    const index = this.indexById.get(id)
    return index === undefined ? undefined : this.nodesByIndex[index]
  }

  /** The config this ring was built from, with every default written out. */
  toConfig(): RingConfig {
    return {
      version: this.version,
      nodes: this.nodes.map((node) => ({ ...node })),
      vnodesPerWeight: this.vnodesPerWeight,
      probeCount: this.probeCount,
    }
  }

  /** @internal The owner index of a position: one range search when there is a range table. */
  ownerIndexAt(position: number): number {
    return this.ranges === undefined
      ? ownerIndexAt(this.table, position)
      : rangeOwnerAt(this.ranges, position)
  }
}

/** Builds a ring from a config, validating it first (throws RingConfigError). */
export function ringFromConfig(config: unknown): Ring {
  return new Ring(config as RingConfig)
}

function assertPosition(position: number): void {
  if (!Number.isInteger(position) || position < 0 || position >= positionCount) {
    throw new RangeError(`a ring position is an integer in [0, 2^53), got ${position}`)
  }
}
