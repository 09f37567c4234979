/**
 * Ownership drawn as a picture: the hash space cut into `segmentCount` equal segments, and
 * each segment split among the nodes that own positions in it, in proportion to how many
 * they own and in the order they first appear there. Adjacent pieces of one node merge into
 * an arc. A dashboard draws these as a donut: with 16 probes per key a node's ranges are many
 * and short, so at a display's resolution this is where each node's keys lie, and each
 * node's arcs add up to exactly its share of the hash space (ownershipShares).
 */
import { positionCount } from './hash.ts'
import { RangeReader } from './range-table.ts'
import type { Ring } from './ring.ts'

export interface OwnershipArc {
  /** Where the arc starts, as a fraction of the hash space in [0, 1). */
  readonly start: number
  /** Where it ends (exclusive), in (0, 1]. */
  readonly end: number
  /** The id of the node that owns those positions. */
  readonly node: string
}

export const arcSegmentCountMax = 3600

export function ownershipArcs(ring: Ring, segmentCount: number): OwnershipArc[] {
  if (!Number.isInteger(segmentCount) || segmentCount < 1 || segmentCount > arcSegmentCountMax) {
    throw new RangeError(
      `segmentCount is an integer in 1..${arcSegmentCountMax}, got ${segmentCount}`,
    )
  }
  // Segment s is [boundaries[s], boundaries[s + 1]): integers, so no position falls between.
  const boundaries = Array.from({ length: segmentCount + 1 }, (_, segment) =>
    Math.floor((segment / segmentCount) * positionCount),
  )
  const arcs: { start: number; end: number; node: string }[] = []
  const append = (node: string, positions: number) => {
    const last = arcs[arcs.length - 1]
    const start = last?.end ?? 0
    const end = start + positions / positionCount
    if (last && last.node === node) last.end = end
    else arcs.push({ start, end, node })
  }
  // The current segment's owners, in order of first appearance, with their positions.
  let pieces = new Map<number, number>()
  const flush = () => {
    for (const [owner, positions] of pieces) append(ring.nodesByIndex[owner]!.id, positions)
    pieces = new Map()
  }
  const reader = new RangeReader(ring.table, ring.ranges)
  let segment = 0
  for (let start = 0; start < positionCount; start = reader.end + 1) {
    reader.next()
    // Ranges and segments both ascend: walk them together, splitting a range at boundaries.
    for (let position = start; position <= reader.end; ) {
      while (boundaries[segment + 1]! <= position) {
        flush()
        segment++
      }
      const pieceEnd = Math.min(reader.end, boundaries[segment + 1]! - 1)
      pieces.set(reader.owner, (pieces.get(reader.owner) ?? 0) + pieceEnd - position + 1)
      position = pieceEnd + 1
    }
  }
  flush()
  const last = arcs[arcs.length - 1]
  if (last) last.end = 1
  return arcs
}
