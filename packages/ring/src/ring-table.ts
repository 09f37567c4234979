/**
 * The vnode table behind a ring, and how a position finds its owner in it.
 *
 * Every vnode position sits in one sorted Float64Array with the owning node's index beside it
 * (node indices follow id order), plus a bucket index over the top bits of the position space
 * that narrows each successor search to the one or two vnodes in a bucket.
 *
 * Ownership (multi-probe): the position space is cut into 4096 blocks of 2^41 positions. The
 * key at offset t of block b is probed at offset t of block
 *   σ_m(b) = (b × probeMultipliers[m] + probeAddends[m]) mod 4096,   for m < probeCount.
 * σ_0 is the identity, so probe 0 is the key's own position. Each probe finds the first vnode at
 * or after it (clockwise, wrapping past 2^53 - 1 to 0), and the key belongs to the vnode with the
 * smallest clockwise distance from its probe; equal distances go to the lower node index, i.e.
 * the node id that sorts first by code point. With probeCount 1 this is the classic ring. The
 * multipliers are odd, so each σ_m is a permutation, and no two σ_m agree on any block.
 *
 * Why this algorithm. The requirements rule most candidates out before speed does: routing must
 * be bit-identical in other languages, independent of node order, move keys only to a joining
 * node (weights included), and describe movement as hash ranges. Weighted rendezvous needs
 * ln(), which no standard promises to round identically across languages, costs O(nodes) per
 * lookup and has no ranges; Maglev moves keys between old nodes when one joins; jump hash can
 * only remove the last bucket. A ring of vnodes placed by (id, index) meets all of them, but
 * balance costs vnodes: a node's share is the sum of its arcs, arc lengths are exponentially
 * distributed, and V vnodes leave a coefficient of variation of ~1/√V. Measured peak-to-mean
 * shares for 10 equal nodes, 60 random id sets each (mean, worst, sets above 1.05):
 *   classic ring,  256 vnodes:              1.093, 1.174, 97%
 *   classic ring, 1024 vnodes:              1.047, 1.094, 39%
 *   classic ring, 2048 vnodes:              1.035, 1.081, 13%
 *   16 probes in permuted blocks, 256:      1.027, 1.050,  0%
 *   4 probes at fixed rotations, 1024:      1.047 (no better than one probe, see below)
 * while a 1000-node ring takes ~15 ms to build with 256 vnodes per node and ~60 ms with 1024.
 * Probes help because a vnode wins a key only where it beats what the other probes find, which
 * caps what a long arc earns: the variance per vnode falls to ~1.5/k of the classic ring's for
 * k probes. They reuse the key's offset in permuted blocks, not unrelated hashes, so ownership
 * stays contiguous within a block and movement plans stay ranges; rotations of the whole ring
 * do not help, since the union of rotated copies is just a folded ring. Each vnode's distance
 * depends only on the key and that vnode, so the nearest one is the same whatever the node
 * order, a new node can only take keys for itself, and a removed node only gives up its own.
 *
 * 16 probes would make lookups 16 successor searches; rings of up to ~60 nodes precompute the
 * resulting ownership ranges once (range-table.ts) and answer with a single array read for
 * ~87% of keys, ~60 ns per lookup with the hash here, against ~115 ns for `consistent-hash`
 * and ~4 µs for `hashring` (bench/ring.ts). Larger rings probe.
 */
import {
  blockMultiplier1,
  blockMultiplier2,
  finalMultiplier1,
  finalMultiplier2,
  positionCount,
  positionOf,
  stateAddend,
} from './hash.ts'
import { bucketBitsFor, runShiftFor, type SortedPositions, sortPositions } from './sort.ts'
import type { VnodeSeed } from './vnode.ts'
import { vnodeMessageBytes } from './vnode.ts'

export const blockBits = 12
export const blockCount = 2 ** blockBits
/** The width of a block in positions: 2^41. */
export const blockWidth = positionCount / blockCount
const blockMask = blockCount - 1
const inverseBlockWidth = 1 / blockWidth

export const probeMultipliers: readonly number[] = [
  1, 303, 279, 3657, 2319, 583, 2719, 2561, 3825, 2343, 3857, 2223, 1729, 2887, 2263, 3015,
]
export const probeAddends: readonly number[] = [
  0, 2143, 1341, 2246, 875, 201, 3635, 914, 260, 2037, 1178, 2279, 1864, 1313, 541, 2529,
]
export const probeCountMax = probeMultipliers.length

export interface RingTable extends SortedPositions {
  /** Multiplying a position by this and truncating gives its bucket. */
  readonly bucketScale: number
  readonly probeCount: number
}

/** Builds the table for nodes given in id order, with their vnode seeds and counts. */
export function buildTable(
  seeds: readonly VnodeSeed[],
  vnodeCounts: readonly number[],
  probeCount: number,
): RingTable {
  let vnodeTotal = 0
  for (const count of vnodeCounts) vnodeTotal += count
  const bucketBits = bucketBitsFor(vnodeTotal)
  const bucketScale = 2 ** bucketBits / positionCount
  // The sort's first pass counts vnodes per run; counting here saves a pass over them.
  const runShift = runShiftFor(bucketBits)
  const runCounts = new Uint32Array(2 ** (bucketBits - runShift) + 1)
  const runOfHigh = 32 - (bucketBits - runShift)
  const positions = new Float64Array(vnodeTotal)
  const owners = new Uint16Array(vnodeTotal)
  let generated = 0
  for (let owner = 0; owner < seeds.length; owner++) {
    const seed = seeds[owner]!
    const count = vnodeCounts[owner]!
    for (let index = 0; index < count; index++) {
      // vnodePosition(seed, index), written out: with the helpers left to the inliner this loop
      // took ~40% longer, and it is a quarter of a 1000-node ring's build time.
      let mixed = Math.imul(index, blockMultiplier1)
      mixed = Math.imul((mixed << 15) | (mixed >>> 17), blockMultiplier2)
      let high = seed.stateHigh ^ mixed
      high = (Math.imul((high << 13) | (high >>> 19), 5) + stateAddend) | 0
      high ^= vnodeMessageBytes
      high ^= high >>> 16
      high = Math.imul(high, finalMultiplier1)
      high ^= high >>> 13
      high = Math.imul(high, finalMultiplier2)
      high ^= high >>> 16
      let low = seed.stateLow ^ mixed
      low = (Math.imul((low << 13) | (low >>> 19), 5) + stateAddend) | 0
      low ^= vnodeMessageBytes
      low ^= low >>> 16
      low = Math.imul(low, finalMultiplier1)
      low ^= low >>> 13
      low = Math.imul(low, finalMultiplier2)
      low ^= low >>> 16
      positions[generated] = positionOf(high, low)
      owners[generated] = owner
      runCounts[(high >>> runOfHigh) + 1]!++
      generated++
    }
  }
  // Generation order is owner order, and the sort is stable, so vnodes at equal positions end
  // up ordered by owner index: the id tie-break.
  const sorted = sortPositions(positions, owners, bucketBits, runCounts)
  return { ...sorted, bucketScale, probeCount }
}

/** The block that probe `probe` of a key in block `block` looks in. */
export function probeBlock(block: number, probe: number): number {
  return (Math.imul(block, probeMultipliers[probe]!) + probeAddends[probe]!) & blockMask
}

/** Scratch for ownerIndexAt's two phases, sized for the most probes a config may ask for. */
const probeScratchPositions = new Float64Array(probeMultipliers.length)
const probeScratchIndices = new Int32Array(probeMultipliers.length)

/**
 * The index (in id order) of the node that owns ring position `position`, by probing. The
 * first phase only reads each probe's bucket start and the second finishes the searches: the
 * first phase's reads do not depend on each other, so the processor overlaps their cache
 * misses, where one loop of complete searches waited on them one after another. On a
 * 1000-node ring (~3 MB of table) that halved a lookup, ~1.1 µs to ~0.6 µs here. A bucket
 * holds one vnode on average, so the search is a short scan rather than a binary search.
 */
export function ownerIndexAt(table: RingTable, position: number): number {
  const { positions, owners, bucketStarts, bucketScale, probeCount } = table
  const vnodeTotal = positions.length
  const block = Math.floor(position * inverseBlockWidth)
  const offset = position - block * blockWidth
  for (let probe = 0; probe < probeCount; probe++) {
    const probeAt =
      ((Math.imul(block, probeMultipliers[probe]!) + probeAddends[probe]!) & blockMask) *
        blockWidth +
      offset
    probeScratchPositions[probe] = probeAt
    probeScratchIndices[probe] = bucketStarts[(probeAt * bucketScale) | 0]!
  }
  let bestDistance = positionCount
  let bestOwner = 0
  for (let probe = 0; probe < probeCount; probe++) {
    const probeAt = probeScratchPositions[probe]!
    let index = probeScratchIndices[probe]!
    // Vnodes in later buckets are past the probe, so this stops within the probe's bucket.
    while (index < vnodeTotal && positions[index]! < probeAt) index++
    let distance: number
    let owner: number
    if (index < vnodeTotal) {
      distance = positions[index]! - probeAt
      owner = owners[index]!
    } else {
      distance = positions[0]! + (positionCount - probeAt)
      owner = owners[0]!
    }
    if (distance < bestDistance || (distance === bestDistance && owner < bestOwner)) {
      bestDistance = distance
      bestOwner = owner
    }
  }
  return bestOwner
}
