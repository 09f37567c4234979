/**
 * Sorting ring positions with their owners, fast enough that a 1000-node ring builds inside
 * its budget. Float64Array.prototype.sort took ~150 ms for a million positions here, and it
 * cannot carry the owners along. This is a stable MSD radix sort on the top `bucketBits` bits
 * that finishes with an insertion sort; its first scatter is done by the caller as it
 * generates the positions (ring-table.ts), and its prefix sums double as the bucket index
 * that lookups use.
 */
import { positionCount } from './hash.ts'

export interface SortedPositions {
  /** Ascending; equal positions keep their input order. */
  readonly positions: Float64Array
  readonly owners: Uint16Array
  /** bucketStarts[b] = index of the first position in bucket b or later; length buckets + 1. */
  readonly bucketStarts: Uint32Array
}

const runBitsMax = 11

/**
 * Runs are scratch, kept between sorts up to this many positions (~4 MB): a fresh array costs a
 * page fault per 4 KB on first touch, ~1.5 ms of a 1000-node ring's ~15 ms build here, and
 * rings are often rebuilt (every config change, every movement plan).
 */
const scratchRetainedMax = 400_000
let scratchPositions = new Float64Array(0)
let scratchOwners = new Uint16Array(0)

/**
 * Arrays for `total` positions grouped into runs, valid until the next call. Not reentrant,
 * which is fine: a ring is built synchronously.
 */
export function runScratch(total: number): { positions: Float64Array; owners: Uint16Array } {
  if (scratchPositions.length >= total) {
    return { positions: scratchPositions, owners: scratchOwners }
  }
  const positions = new Float64Array(total)
  const owners = new Uint16Array(total)
  if (total <= scratchRetainedMax) {
    scratchPositions = positions
    scratchOwners = owners
  }
  return { positions, owners }
}

/**
 * How a sort on `bucketBits` bits splits them: runs are the top (bucketBits - shift) bits, at
 * most 2048 of them (few enough write streams for the scatter to stay cache-friendly), and the
 * remaining `shift` bits are sorted within each run while it is in cache.
 */
export function runShiftFor(bucketBits: number): number {
  return bucketBits - Math.min(runBitsMax, Math.ceil(bucketBits / 2))
}

/**
 * Finishes an MSD radix sort whose first scatter is done: `runPositions` holds `total`
 * positions (integers in [0, 2^53)) grouped by their top bits, run r at
 * [runStarts[r], runStarts[r + 1]). Each run is counting-sorted by the remaining bucket bits
 * into fresh output arrays, whose prefix sums are the bucket index, then insertion-sorted for
 * positions sharing a bucket. Every step is stable, so equal positions keep their run order.
 */
export function sortRuns(
  runPositions: Float64Array,
  runOwners: Uint16Array,
  runStarts: Uint32Array,
  total: number,
  bucketBits: number,
): SortedPositions {
  const withinRunBits = runShiftFor(bucketBits)
  const runCount = 2 ** (bucketBits - withinRunBits)
  const withinRunCount = 2 ** withinRunBits
  const withinRunMask = withinRunCount - 1
  const bucketScale = 2 ** bucketBits / positionCount
  const positions = new Float64Array(total)
  const owners = new Uint16Array(total)
  const bucketStarts = new Uint32Array(2 ** bucketBits + 1)
  const counts = new Uint32Array(withinRunCount)
  for (let run = 0; run < runCount; run++) {
    const runStart = runStarts[run]!
    const runEnd = runStarts[run + 1]!
    counts.fill(0)
    for (let index = runStart; index < runEnd; index++) {
      counts[((runPositions[index]! * bucketScale) | 0) & withinRunMask]!++
    }
    const firstBucket = run * withinRunCount
    let start = runStart
    for (let digit = 0; digit < withinRunCount; digit++) {
      const count = counts[digit]!
      counts[digit] = start
      bucketStarts[firstBucket + digit] = start
      start += count
    }
    for (let index = runStart; index < runEnd; index++) {
      const position = runPositions[index]!
      const slot = counts[((position * bucketScale) | 0) & withinRunMask]!++
      positions[slot] = position
      owners[slot] = runOwners[index]!
    }
    insertionSort(positions, owners, runStart, runEnd)
  }
  bucketStarts[2 ** bucketBits] = total
  return { positions, owners, bucketStarts }
}

/** Sorts [start, end), which is nearly sorted: only positions sharing a bucket are out of order. */
function insertionSort(positions: Float64Array, owners: Uint16Array, start: number, end: number) {
  for (let index = start + 1; index < end; index++) {
    const position = positions[index]!
    if (positions[index - 1]! <= position) continue
    const owner = owners[index]!
    let slot = index
    while (slot > start && positions[slot - 1]! > position) {
      positions[slot] = positions[slot - 1]!
      owners[slot] = owners[slot - 1]!
      slot--
    }
    positions[slot] = position
    owners[slot] = owner
  }
}

/** A bucket index for ascending `positions`; see SortedPositions.bucketStarts. */
export function indexBuckets(positions: Float64Array, bucketBits: number): Uint32Array {
  const bucketCount = 2 ** bucketBits
  const bucketScale = bucketCount / positionCount
  const bucketStarts = new Uint32Array(bucketCount + 1)
  for (let index = 0; index < positions.length; index++) {
    bucketStarts[((positions[index]! * bucketScale) | 0) + 1]!++
  }
  for (let bucket = 1; bucket <= bucketCount; bucket++) {
    bucketStarts[bucket]! += bucketStarts[bucket - 1]!
  }
  return bucketStarts
}

/** About one entry per bucket, within bounds that keep the index small and useful. */
export function bucketBitsFor(entryCount: number): number {
  return Math.min(21, Math.max(8, Math.ceil(Math.log2(entryCount + 1))))
}
