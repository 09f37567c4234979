/**
 * Ownership as a list of hash ranges: the answer of every lookup, computed once.
 *
 * Within key block b, probe m looks at the same offset in block σ_m(b), so as the key's offset
 * t grows each probe's successor only changes when t passes a vnode of that block, and between
 * such breakpoints all the probes' distances shrink together: the owner of (previous, current]
 * is the vnode at `current` (the lowest owner index if several sit there). So block b's ranges
 * come from merging, in offset order, the vnodes of its probeCount blocks, each list ending
 * with the first vnode after its block (which settles the tail of b). That gives at most one
 * range per (vnode, probe) pair plus one per block, produced in ascending order, before
 * adjacent ranges with the same owner merge.
 *
 * Small rings keep this table and answer lookups with one array read (or one successor search)
 * instead of probeCount searches; movement plans and shares use it for every ring.
 */
import { positionCount } from './hash.ts'
import { blockBits, blockCount, blockWidth, probeBlock, type RingTable } from './ring-table.ts'
import { bucketBitsFor, indexBuckets } from './sort.ts'

export interface RangeTable {
  /** The last position of each range, ascending; the final one is 2^53 - 1. */
  readonly ends: Float64Array
  /** The owner index of each range. */
  readonly owners: Uint16Array
  readonly bucketStarts: Uint32Array
  readonly bucketScale: number
  /**
   * The owner of every key in a direct bucket, indexed by the top bits of a key's high hash
   * word (`high >>> directShift`), or `mixedBucket` where a range ends inside the bucket or the
   * owner's index does not fit in a byte. With ~4 buckets per range, ~87% of lookups end here
   * after one array read. Bytes rather than 16-bit owners: for 10 nodes the table is 256 KB
   * instead of 512 KB, which measured ~8 ns faster per lookup, the keys' own strings competing
   * for the same caches.
   */
  readonly directOwners: Uint8Array
  readonly directShift: number
}

// Module-private copies for the build loops; see the note on constants in hash.ts.
const blockSize: number = blockWidth
const ringSize: number = positionCount

/** Marks a direct bucket where a lookup must search the ranges. */
export const mixedBucket = 0xff
const directBitsMin = 10
const directBitsMax = 20

/** How many ranges buildRanges starts from, before merging; bounds its time and memory. */
export function rangeCountBound(table: RingTable): number {
  return table.positions.length * table.probeCount + blockCount
}

export function buildRanges(table: RingTable): RangeTable {
  const merged = concatenateBlocks(table)
  const bucketBits = bucketBitsFor(merged.ends.length)
  const directBits = Math.min(
    directBitsMax,
    Math.max(directBitsMin, Math.ceil(Math.log2(merged.ends.length)) + 2),
  )
  return {
    ends: merged.ends,
    owners: merged.owners,
    bucketStarts: indexBuckets(merged.ends, bucketBits),
    bucketScale: 2 ** bucketBits / positionCount,
    directOwners: directOwnersOf(merged.ends, merged.owners, directBits),
    directShift: 32 - directBits,
  }
}

function concatenateBlocks(table: RingTable) {
  const blockRanges = new BlockRanges(table)
  const rangeCountMax = rangeCountBound(table)
  const ends = new Float64Array(rangeCountMax)
  const owners = new Uint16Array(rangeCountMax)
  let rangeCount = 0
  for (let block = 0; block < blockCount; block++) {
    blockRanges.build(block)
    for (let range = 0; range < blockRanges.count; range++) {
      const owner = blockRanges.owners[range]!
      // A range that continues across the block boundary is one range.
      if (rangeCount > 0 && owners[rangeCount - 1] === owner) rangeCount--
      ends[rangeCount] = blockRanges.ends[range]!
      owners[rangeCount] = owner
      rangeCount++
    }
  }
  return { ends: ends.slice(0, rangeCount), owners: owners.slice(0, rangeCount) }
}

/**
 * The ranges of one block at a time, in ascending order, with scratch sized for one block, so
 * movement plans over rings too large for a range table need no memory per range.
 */
export class BlockRanges {
  /** The current block's ranges: last positions (absolute) and owners, `count` of them. */
  readonly ends: Float64Array
  readonly owners: Uint16Array
  count = 0
  private readonly table: RingTable
  /** blockFirst[c]: the first vnode at or after the start of block c. */
  private readonly blockFirst: Uint32Array
  private readonly entries: BlockEntries

  constructor(table: RingTable) {
    this.table = table
    this.blockFirst = indexBuckets(table.positions, blockBits)
    let blockVnodesMax = 0
    for (let block = 0; block < blockCount; block++) {
      blockVnodesMax = Math.max(
        blockVnodesMax,
        this.blockFirst[block + 1]! - this.blockFirst[block]!,
      )
    }
    const entryCountMax = blockVnodesMax * table.probeCount
    this.entries = {
      offsets: new Float64Array(entryCountMax),
      owners: new Uint16Array(entryCountMax),
      spareOffsets: new Float64Array(entryCountMax),
      spareOwners: new Uint16Array(entryCountMax),
      runEnds: new Int32Array(table.probeCount),
    }
    this.ends = new Float64Array(entryCountMax + 1)
    this.owners = new Uint16Array(entryCountMax + 1)
  }

  build(block: number): void {
    const { positions, owners: vnodeOwners, probeCount } = this.table
    const vnodeTotal = positions.length
    const blockFirst = this.blockFirst
    const entries = this.entries
    // Gather the vnodes of every block this block's probes look in, as offsets from that
    // block's start (one sorted run per probe), and find the nearest vnode after any of those
    // blocks: the owner of the block's tail.
    let entryCount = 0
    let tailOffset = Number.POSITIVE_INFINITY
    let tailOwner = 0
    for (let probe = 0; probe < probeCount; probe++) {
      const probed = probeBlock(block, probe)
      const base = probed * blockSize
      const after = blockFirst[probed + 1]!
      for (let index = blockFirst[probed]!; index < after; index++) {
        entries.offsets[entryCount] = positions[index]! - base
        entries.owners[entryCount] = vnodeOwners[index]!
        entryCount++
      }
      entries.runEnds[probe] = entryCount
      const spill = after < vnodeTotal ? after : 0
      const spillOffset = positions[spill]! + (after < vnodeTotal ? -base : ringSize - base)
      const spillOwner = vnodeOwners[spill]!
      if (spillOffset < tailOffset || (spillOffset === tailOffset && spillOwner < tailOwner)) {
        tailOffset = spillOffset
        tailOwner = spillOwner
      }
    }
    sortEntries(entries, entryCount, probeCount)
    const sortedOffsets = entries.offsets
    const sortedOwners = entries.owners
    const blockStart = block * blockSize
    const lastOffset = blockSize - 1
    let count = 0
    let previousEnd = -1
    for (let entry = 0; entry <= entryCount; entry++) {
      const end = entry < entryCount ? sortedOffsets[entry]! : lastOffset
      if (end <= previousEnd) continue
      const owner = entry < entryCount ? sortedOwners[entry]! : tailOwner
      if (count > 0 && this.owners[count - 1] === owner) count--
      this.ends[count] = blockStart + end
      this.owners[count] = owner
      count++
      previousEnd = end
    }
    this.count = count
  }
}

/**
 * Reads a ring's ranges in ascending order, from its range table when it has one and block by
 * block otherwise. `end` and `owner` describe the current range once next() has been called.
 */
export class RangeReader {
  end = -1
  owner = 0
  private readonly ranges: RangeTable | undefined
  private readonly blocks: BlockRanges | undefined
  private block = -1
  private index = -1

  constructor(table: RingTable, ranges: RangeTable | undefined) {
    this.ranges = ranges
    this.blocks = ranges === undefined ? new BlockRanges(table) : undefined
  }

  /** Moves to the next range; call only while `end` < 2^53 - 1. */
  next(): void {
    this.index++
    if (this.ranges !== undefined) {
      this.end = this.ranges.ends[this.index]!
      this.owner = this.ranges.owners[this.index]!
      return
    }
    const blocks = this.blocks!
    while (this.block < 0 || this.index >= blocks.count) {
      blocks.build(++this.block)
      this.index = 0
    }
    this.end = blocks.ends[this.index]!
    this.owner = blocks.owners[this.index]!
  }
}

/** One block's (offset, owner) entries, gathered as one sorted run per probe. */
interface BlockEntries {
  offsets: Float64Array
  owners: Uint16Array
  spareOffsets: Float64Array
  spareOwners: Uint16Array
  /** runEnds[probe] = the end of that probe's run in offsets/owners. */
  readonly runEnds: Int32Array
}

const insertionSortCountMax = 32

/**
 * Sorts a block's entries by offset, then owner. A block of a small ring holds ~10 entries and
 * an insertion sort is fastest; at 100 nodes it holds ~600, so the sorted runs are merged
 * pairwise instead (insertion sort is quadratic).
 */
function sortEntries(entries: BlockEntries, count: number, runCount: number): void {
  const offsets = entries.offsets
  const owners = entries.owners
  if (count <= insertionSortCountMax) {
    for (let entry = 1; entry < count; entry++) {
      const offset = offsets[entry]!
      const owner = owners[entry]!
      let slot = entry
      while (
        slot > 0 &&
        (offsets[slot - 1]! > offset || (offsets[slot - 1] === offset && owners[slot - 1]! > owner))
      ) {
        offsets[slot] = offsets[slot - 1]!
        owners[slot] = owners[slot - 1]!
        slot--
      }
      offsets[slot] = offset
      owners[slot] = owner
    }
    return
  }
  const runEnds = entries.runEnds
  for (let runs = runCount; runs > 1; ) {
    let merged = 0
    let start = 0
    for (let run = 0; run < runs; run += 2) {
      const middle = runEnds[run]!
      const end = run + 1 < runs ? runEnds[run + 1]! : middle
      mergeRuns(entries, start, middle, end)
      runEnds[merged++] = end
      start = end
    }
    runs = merged
    const fromOffsets = entries.offsets
    const fromOwners = entries.owners
    entries.offsets = entries.spareOffsets
    entries.owners = entries.spareOwners
    entries.spareOffsets = fromOffsets
    entries.spareOwners = fromOwners
  }
}

/** Merges [start, middle) and [middle, end) of the entries into the spare arrays. */
function mergeRuns(entries: BlockEntries, start: number, middle: number, end: number): void {
  const offsets = entries.offsets
  const owners = entries.owners
  const toOffsets = entries.spareOffsets
  const toOwners = entries.spareOwners
  let left = start
  let right = middle
  for (let to = start; to < end; to++) {
    const takeLeft =
      right >= end ||
      (left < middle &&
        (offsets[left]! < offsets[right]! ||
          (offsets[left] === offsets[right] && owners[left]! <= owners[right]!)))
    const from = takeLeft ? left++ : right++
    toOffsets[to] = offsets[from]!
    toOwners[to] = owners[from]!
  }
}

/** Marks every bucket mixed, then gives each bucket that lies wholly inside a range its owner. */
function directOwnersOf(ends: Float64Array, owners: Uint16Array, directBits: number) {
  const bucketScale = 2 ** directBits / positionCount
  const directOwners = new Uint8Array(2 ** directBits).fill(mixedBucket)
  let start = 0
  for (let range = 0; range < ends.length; range++) {
    const end = ends[range]!
    const owner = owners[range]!
    const firstWhole = Math.ceil(start * bucketScale)
    const afterLastWhole = Math.floor((end + 1) * bucketScale)
    if (owner < mixedBucket) {
      // A loop, not fill(): most ranges cover a handful of buckets, too few to pay for a call.
      for (let bucket = firstWhole; bucket < afterLastWhole; bucket++) directOwners[bucket] = owner
    }
    start = end + 1
  }
  return directOwners
}

/** The owner index of `position`: the owner of the first range ending at or after it. */
export function rangeOwnerAt(ranges: RangeTable, position: number): number {
  const ends = ranges.ends
  const bucket = (position * ranges.bucketScale) | 0
  let low = ranges.bucketStarts[bucket]!
  let high = ranges.bucketStarts[bucket + 1]!
  while (low < high) {
    const middle = (low + high) >>> 1
    if (ends[middle]! < position) low = middle + 1
    else high = middle
  }
  return ranges.owners[low]!
}
