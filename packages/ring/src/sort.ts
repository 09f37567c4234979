/**
 * Sorting ring positions with their owners, fast enough that a 1000-node ring builds inside
 * its budget. Float64Array.prototype.sort took ~150 ms for a million positions here (and can't
 * carry the owners); Array.prototype.sort with a comparator several times that. This one does
 * a stable MSD radix sort on the top `bucketBits` bits and finishes with an insertion sort,
 * and its prefix sums double as the bucket index that lookups use.
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

/** How sortPositions splits `bucketBits` into a run digit and a within-run digit. */
export function runShiftFor(bucketBits: number): number {
  return bucketBits - Math.min(runBitsMax, Math.ceil(bucketBits / 2))
}

/**
 * Sorts `positions` (integers in [0, 2^53)) in place, moving `owners` along: one scatter by the
 * top bits into at most 2048 runs (few enough write streams to stay cache-friendly), then per
 * run, while it is in cache, a counting sort by the remaining bucket bits and an insertion sort
 * for positions sharing a bucket. Every step is stable. `runCounts`, if given, is the number of
 * positions per run (runCounts[run + 1], as the caller may count while generating them).
 */
export function sortPositions(
  positions: Float64Array,
  owners: Uint16Array,
  bucketBits: number,
  runCounts?: Uint32Array,
): SortedPositions {
  const total = positions.length
  const withinRunBits = runShiftFor(bucketBits)
  const runCount = 2 ** (bucketBits - withinRunBits)
  const withinRunCount = 2 ** withinRunBits
  const withinRunMask = withinRunCount - 1
  const bucketScale = 2 ** bucketBits / positionCount
  const runStarts = runCounts ?? new Uint32Array(runCount + 1)
  if (runCounts === undefined) {
    for (let index = 0; index < total; index++) {
      runStarts[(((positions[index]! * bucketScale) | 0) >>> withinRunBits) + 1]!++
    }
  }
  for (let run = 1; run <= runCount; run++) runStarts[run]! += runStarts[run - 1]!
  const runPositions = new Float64Array(total)
  const runOwners = new Uint16Array(total)
  const nextSlots = runStarts.slice(0, runCount)
  for (let index = 0; index < total; index++) {
    const position = positions[index]!
    const slot = nextSlots[((position * bucketScale) | 0) >>> withinRunBits]!++
    runPositions[slot] = position
    runOwners[slot] = owners[index]!
  }
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
