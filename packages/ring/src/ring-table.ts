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
 * shares (exact, over the hash space) for 10 equal nodes, 100 random id sets:
 *                                        mean   worst  sets above 1.05
 *   classic ring,  256 vnodes per node   1.101  1.218  94%
 *   classic ring, 1024                   1.048  1.090  44%
 *   classic ring, 2048                   1.033  1.060   8%
 *   classic ring, 4096                   1.023  1.049   0%
 *   4 probes in permuted blocks, 256     1.051  1.109  47%
 *   16 probes in permuted blocks, 192    1.034  1.066   8%
 *   16 probes in permuted blocks, 256    1.029  1.062   2%   <- the defaults
 * (4 probes at fixed rotations of the whole ring, 1024 vnodes: 1.047, no better than one.)
 * A 1000-node ring builds in ~15 ms here with 256 vnodes per node and in about four times
 * that with 1024, so 16 probes × 256 vnodes is the cheapest way found to 10 nodes within 1.05.
 * Probes help because a vnode wins a key only where it beats what the other probes find, which
 * caps what a long arc earns: the variance per vnode falls to ~1.5/k of the classic ring's for
 * k probes. They reuse the key's offset in permuted blocks, not unrelated hashes, so ownership
 * stays contiguous within a block and movement plans stay ranges; rotations of the whole ring
 * do not help, since the union of rotated copies is just a folded ring. Each vnode's distance
 * depends only on the key and that vnode, so the nearest one is the same whatever the node
 * order, a new node can only take keys for itself, and a removed node only gives up its own.
 *
 * 16 probes would make lookups 16 successor searches; rings of up to ~60 nodes precompute the
 * resulting ownership ranges once (range-table.ts) and answer ~87% of keys with one array read:
 * ~50-90 ns per 10-node lookup including the hash (CPU time here), against ~110-180 ns for
 * `consistent-hash` and ~4 µs for `hashring` (bench/ring.ts). Larger rings probe, ~0.7 µs per
 * lookup at 1000 nodes, with the probes' memory reads overlapped (ownerIndexAt).
 */
import { positionCount, positionOf } from './hash.ts'
import { bucketBitsFor, runScratch, runShiftFor, type SortedPositions, sortRuns } from './sort.ts'
import type { VnodeSeed } from './vnode.ts'
import { vnodeMessageBytes } from './vnode.ts'

// Constants the hot loops read are private to this module: V8 compiles a module's own constants
// into the machine code but reads exported and imported ones through cells (see hash.ts).
const ringSize = 2 ** 53
const blocks = 4096
const blockSize = ringSize / blocks
const blockMask = blocks - 1
const inverseBlockSize = 1 / blockSize
const multipliers = [
  1, 303, 279, 3657, 2319, 583, 2719, 2561, 3825, 2343, 3857, 2223, 1729, 2887, 2263, 3015,
]
const addends = [
  0, 2143, 1341, 2246, 875, 201, 3635, 914, 260, 2037, 1178, 2279, 1864, 1313, 541, 2529,
]
// MurmurHash3_x86_32's constants, as in hash.ts, for the vnode generation written out below.
const blockMultiplier1 = 0xcc9e2d51
const blockMultiplier2 = 0x1b873593
const stateAddend = 0xe6546b64
const finalMultiplier1 = 0x85ebca6b
const finalMultiplier2 = 0xc2b2ae35

export const blockBits = 12
export const blockCount = blocks
/** The width of a block in positions: 2^41. */
export const blockWidth = blockSize
export const probeMultipliers: readonly number[] = multipliers
export const probeAddends: readonly number[] = addends
export const probeCountMax = multipliers.length

export interface RingTable extends SortedPositions {
  /** Multiplying a position by this and truncating gives its bucket. */
  readonly bucketScale: number
  readonly probeCount: number
}

/**
 * Builds the table for nodes given in id order, with their vnode seeds and counts, in two
 * passes over the vnodes: the first computes only each vnode's high hash word, enough to count
 * vnodes per run of the radix sort (sort.ts); the second computes the positions and writes
 * each straight into its run. That measured as fast as generating into an array and scattering
 * it, and needs no such array (2.5 MB at 1000 nodes). Vnodes enter their runs in owner order
 * and the sort is stable, so vnodes at equal positions end up ordered by owner index: the id
 * tie-break.
 */
export function buildTable(
  seeds: readonly VnodeSeed[],
  vnodeCounts: readonly number[],
  probeCount: number,
): RingTable {
  let vnodeTotal = 0
  for (const count of vnodeCounts) vnodeTotal += count
  const bucketBits = bucketBitsFor(vnodeTotal)
  const runShift = runShiftFor(bucketBits)
  const runCount = 2 ** (bucketBits - runShift)
  const runOfHigh = 32 - (bucketBits - runShift)
  const runStarts = new Uint32Array(runCount + 1)
  for (let owner = 0; owner < seeds.length; owner++) {
    const stateHigh = seeds[owner]!.stateHigh
    const count = vnodeCounts[owner]!
    for (let index = 0; index < count; index++) {
      runStarts[(vnodeHalf(stateHigh, index) >>> runOfHigh) + 1]!++
    }
  }
  for (let run = 1; run <= runCount; run++) runStarts[run]! += runStarts[run - 1]!
  const nextSlots = runStarts.slice(0, runCount)
  const runs = runScratch(vnodeTotal)
  for (let owner = 0; owner < seeds.length; owner++) {
    const seed = seeds[owner]!
    const count = vnodeCounts[owner]!
    for (let index = 0; index < count; index++) {
      const high = vnodeHalf(seed.stateHigh, index)
      const slot = nextSlots[high >>> runOfHigh]!++
      runs.positions[slot] = positionOf(high, vnodeHalf(seed.stateLow, index))
      runs.owners[slot] = owner
    }
  }
  const sorted = sortRuns(runs.positions, runs.owners, runStarts, vnodeTotal, bucketBits)
  return { ...sorted, bucketScale: 2 ** bucketBits / positionCount, probeCount }
}

/**
 * One half of vnodePosition (vnode.ts), written out: with MurmurHash3's helpers left to the
 * inliner, and its constants imported rather than the module's own, generation took ~40%
 * longer. The high and low halves differ only in their seeded state. The table test checks
 * this against vnodePosition.
 */
function vnodeHalf(state: number, index: number): number {
  let mixed = Math.imul(index, blockMultiplier1)
  mixed = Math.imul((mixed << 15) | (mixed >>> 17), blockMultiplier2)
  let half = state ^ mixed
  half = (Math.imul((half << 13) | (half >>> 19), 5) + stateAddend) | 0
  half ^= vnodeMessageBytes
  half ^= half >>> 16
  half = Math.imul(half, finalMultiplier1)
  half ^= half >>> 13
  half = Math.imul(half, finalMultiplier2)
  return half ^ (half >>> 16)
}

/** The block that probe `probe` of a key in block `block` looks in. */
export function probeBlock(block: number, probe: number): number {
  return (Math.imul(block, multipliers[probe]!) + addends[probe]!) & blockMask
}

/**
 * Where each probe of the key at `position` looks (`probeAt`) and where the search for its
 * successor starts (`searchFrom`, the first vnode of the probe's bucket), for the first
 * phase of a search: every read here is independent of the others, so their cache misses
 * overlap (see ownerIndexAt).
 */
export function startProbes(
  table: RingTable,
  position: number,
  probeAt: Float64Array,
  searchFrom: Int32Array,
): void {
  const { bucketStarts, bucketScale, probeCount } = table
  const block = Math.floor(position * inverseBlockSize)
  const offset = position - block * blockSize
  for (let probe = 0; probe < probeCount; probe++) {
    const at =
      ((Math.imul(block, multipliers[probe]!) + addends[probe]!) & blockMask) * blockSize + offset
    probeAt[probe] = at
    searchFrom[probe] = bucketStarts[(at * bucketScale) | 0]!
  }
}

/** Scratch for ownerIndexAt's two phases, sized for the most probes a config may ask for. */
const probeScratchPositions = new Float64Array(multipliers.length)
const probeScratchIndices = new Int32Array(multipliers.length)

/**
 * The index (in id order) of the node that owns ring position `position`, by probing. The
 * first phase only reads each probe's bucket start and the second finishes the searches: the
 * first phase's reads do not depend on each other, so the processor overlaps their cache
 * misses, where one loop of complete searches waited on them one after another. On a
 * 1000-node ring (~3 MB of table) that halved a lookup, ~1.1 µs to ~0.6 µs here. A bucket
 * holds one vnode on average, so the search is a short scan rather than a binary search.
 */
export function ownerIndexAt(table: RingTable, position: number): number {
  const { positions, owners, probeCount } = table
  const vnodeTotal = positions.length
  startProbes(table, position, probeScratchPositions, probeScratchIndices)
  let bestDistance = ringSize
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
      distance = positions[0]! + (ringSize - probeAt)
      owner = owners[0]!
    }
    if (distance < bestDistance || (distance === bestDistance && owner < bestOwner)) {
      bestDistance = distance
      bestOwner = owner
    }
  }
  return bestOwner
}
