/**
 * The nodes in a key's order of preference: every node, nearest first, where a node's
 * distance is that of its vnode nearest to any of the key's probes. The first node is the
 * key's owner; preference lists and bounded-load lookups read further along the same order.
 *
 * Each probe walks clockwise from its own position, and the walk repeatedly takes the probe
 * whose next vnode is nearest (ties to the lower owner index, as in lookups), skipping nodes
 * already produced. A node's place depends only on its own vnodes' distances, so adding a node
 * inserts it somewhere in every order without reordering the others.
 */
import { positionCount } from './hash.ts'
import { type RingTable, startProbes } from './ring-table.ts'

const exhausted = Number.POSITIVE_INFINITY
const ringSize: number = positionCount

/**
 * One walk at a time per ring: the scratch arrays are reused between walks so a preference
 * list allocates nothing per probe. Not reentrant, which is fine for synchronous callers.
 */
export class CandidateWalk {
  private readonly table: RingTable
  private readonly nodeCount: number
  private readonly cursorIndex: Int32Array
  /** Distances are `position - cursorBase`; the base drops by 2^53 when a cursor wraps. */
  private readonly cursorBase: Float64Array
  private readonly cursorDistance: Float64Array
  private readonly cursorSteps: Int32Array
  private readonly producedStamp: Uint32Array
  private stamp = 0
  private produced = 0

  constructor(table: RingTable, nodeCount: number) {
    this.table = table
    this.nodeCount = nodeCount
    this.cursorIndex = new Int32Array(table.probeCount)
    this.cursorBase = new Float64Array(table.probeCount)
    this.cursorDistance = new Float64Array(table.probeCount)
    this.cursorSteps = new Int32Array(table.probeCount)
    this.producedStamp = new Uint32Array(nodeCount)
  }

  /** Starts the order for the key at ring position `position`. */
  start(position: number): void {
    this.stamp++
    if (this.stamp === 0xffffffff) {
      this.producedStamp.fill(0)
      this.stamp = 1
    }
    this.produced = 0
    const { positions, probeCount } = this.table
    // Two phases, as in ownerIndexAt: every probe's bucket first, then the short scans.
    startProbes(this.table, position, this.cursorBase, this.cursorIndex)
    for (let probe = 0; probe < probeCount; probe++) {
      let base = this.cursorBase[probe]!
      let index = this.cursorIndex[probe]!
      while (index < positions.length && positions[index]! < base) index++
      if (index === positions.length) {
        index = 0
        base -= ringSize
      }
      this.cursorIndex[probe] = index
      this.cursorBase[probe] = base
      this.cursorDistance[probe] = positions[index]! - base
      this.cursorSteps[probe] = 0
    }
  }

  /** The next node index in order of preference, or -1 once every node has been produced. */
  next(): number {
    const positions = this.table.positions
    const owners = this.table.owners
    const vnodeTotal = positions.length
    while (this.produced < this.nodeCount) {
      let nearest = -1
      let nearestDistance = exhausted
      let nearestOwner = 0
      for (let probe = 0; probe < this.table.probeCount; probe++) {
        const distance = this.cursorDistance[probe]!
        if (distance > nearestDistance) continue
        const owner = owners[this.cursorIndex[probe]!]!
        if (distance < nearestDistance || owner < nearestOwner) {
          nearest = probe
          nearestDistance = distance
          nearestOwner = owner
        }
      }
      if (nearest < 0) return -1
      this.advance(nearest, vnodeTotal, positions)
      if (this.producedStamp[nearestOwner] !== this.stamp) {
        this.producedStamp[nearestOwner] = this.stamp
        this.produced++
        return nearestOwner
      }
    }
    return -1
  }

  /** Moves a cursor to its next vnode; after a full circle it is exhausted. */
  private advance(probe: number, vnodeTotal: number, positions: Float64Array): void {
    const steps = this.cursorSteps[probe]! + 1
    this.cursorSteps[probe] = steps
    if (steps >= vnodeTotal) {
      this.cursorDistance[probe] = exhausted
      return
    }
    let index = this.cursorIndex[probe]! + 1
    if (index === vnodeTotal) {
      index = 0
      this.cursorBase[probe]! -= ringSize
    }
    this.cursorIndex[probe] = index
    this.cursorDistance[probe] = positions[index]! - this.cursorBase[probe]!
  }
}
