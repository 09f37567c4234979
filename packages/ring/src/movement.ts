/**
 * What changes hands between two rings, as hash ranges: the plan a data migration follows when
 * the ring config moves from version A to version B.
 *
 * Both rings' ownership is a sorted list of ranges (range-table.ts), so the plan is one merge
 * of the two lists. Ranges are inclusive, [start, end] in ring positions (see keyPosition), never
 * wrap past 2^53 - 1, and are merged where adjacent with the same source and destination.
 * Because ownership is "nearest vnode wins", a plan for adding a node only ever moves keys to
 * it, and one for removing a node only moves that node's keys. Rings too large to keep a range
 * table have their ranges computed block by block as the merge reaches them, so memory stays
 * proportional to the plan, not to probeCount × vnodes (a second or so at 1000 nodes).
 */
import { positionCount } from './hash.ts'
import { RangeReader } from './range-table.ts'
import type { Ring } from './ring.ts'

export interface MovedRange {
  /** The first ring position of the range. */
  readonly start: number
  /** The last ring position of the range (inclusive). */
  readonly end: number
  /** The id of the node that owns the range in the first ring. */
  readonly from: string
  /** The id of the node that owns it in the second ring. */
  readonly to: string
}

export interface Transfer {
  readonly from: string
  readonly to: string
  /** The fraction of the hash space that moves from `from` to `to`. */
  readonly fraction: number
}

export interface MovementPlan {
  /** Ascending by start. */
  readonly ranges: readonly MovedRange[]
  /** The fraction of the hash space that changes owner, in [0, 1]. */
  readonly movedFraction: number
  /** The ranges summed per pair of nodes, largest first. */
  readonly transfers: readonly Transfer[]
}

export function movementPlan(from: Ring, to: Ring): MovementPlan {
  const fromRanges = readerOf(from)
  const toRanges = readerOf(to)
  const ranges: { start: number; end: number; from: string; to: string }[] = []
  const transferred = new Map<string, { from: string; to: string; positions: number }>()
  let movedPositions = 0
  for (let start = 0; start < positionCount; ) {
    if (fromRanges.end < start) fromRanges.next()
    if (toRanges.end < start) toRanges.next()
    const end = Math.min(fromRanges.end, toRanges.end)
    const fromId = from.nodesByIndex[fromRanges.owner]!.id
    const toId = to.nodesByIndex[toRanges.owner]!.id
    if (fromId !== toId) {
      const length = end - start + 1
      movedPositions += length
      const last = ranges[ranges.length - 1]
      if (last && last.end + 1 === start && last.from === fromId && last.to === toId) {
        last.end = end
      } else {
        ranges.push({ start, end, from: fromId, to: toId })
      }
      const pair = `${fromId}\u0000${toId}`
      const transfer = transferred.get(pair)
      if (transfer) transfer.positions += length
      else transferred.set(pair, { from: fromId, to: toId, positions: length })
    }
    start = end + 1
  }
  const transfers = [...transferred.values()]
    .map(({ from, to, positions }) => ({ from, to, fraction: positions / positionCount }))
    .sort((left, right) => right.fraction - left.fraction)
  return { ranges, movedFraction: movedPositions / positionCount, transfers }
}

/** Each node's exact share of the hash space, by id; the shares sum to 1. */
export function ownershipShares(ring: Ring): ReadonlyMap<string, number> {
  const reader = readerOf(ring)
  const positions = new Float64Array(ring.nodesByIndex.length)
  for (let start = 0; start < positionCount; start = reader.end + 1) {
    reader.next()
    positions[reader.owner]! += reader.end - start + 1
  }
  return new Map(
    ring.nodesByIndex.map((node, index) => [node.id, positions[index]! / positionCount]),
  )
}

function readerOf(ring: Ring): RangeReader {
  return new RangeReader(ring.table, ring.ranges)
}
