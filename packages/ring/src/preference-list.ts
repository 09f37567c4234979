/**
 * N-replica preference lists that spread across failure domains.
 *
 * The list is chosen from the key's order of preference (see candidate-walk.ts) in three
 * passes, each taking nodes in that order and stopping once the list is as long as it can be
 * at that level of spread:
 *   1. nodes in regions not yet used, until min(n, regions) nodes;
 *   2. nodes in zones not yet used (a zone is a region and zone name; nodes without a zone share
 *      their region's unnamed zone), until min(n, zones) nodes;
 *   3. any node not yet taken, until min(n, nodes) nodes.
 * So the first entry is always the key's owner, replicas land in distinct regions when there
 * are enough regions, then in distinct zones, and only then double up; asking for more
 * replicas than nodes returns every node. Pass 1 may read far along the order when one region
 * holds most nodes, but never further than all nodes.
 */
import type { CandidateWalk } from './candidate-walk.ts'

/** Failure domains by node index, for the node set of one ring. */
export interface Topology {
  readonly regionOf: Uint32Array
  readonly zoneOf: Uint32Array
  readonly regionCount: number
  readonly zoneCount: number
}

export function topologyOf(nodes: readonly { region: string; zone?: string }[]): Topology {
  // Zones by region, then by name ('' for the region's unnamed zone).
  const zonesByRegion = new Map<string, Map<string, number>>()
  const regionIndex = new Map<string, number>()
  const regionOf = new Uint32Array(nodes.length)
  const zoneOf = new Uint32Array(nodes.length)
  let zoneCount = 0
  for (let index = 0; index < nodes.length; index++) {
    const { region, zone = '' } = nodes[index]!
    let zones = zonesByRegion.get(region)
    if (zones === undefined) {
      zones = new Map()
      zonesByRegion.set(region, zones)
      regionIndex.set(region, regionIndex.size)
    }
    let zoneIndex = zones.get(zone)
    if (zoneIndex === undefined) {
      zoneIndex = zoneCount++
      zones.set(zone, zoneIndex)
    }
    regionOf[index] = regionIndex.get(region)!
    zoneOf[index] = zoneIndex
  }
  return { regionOf, zoneOf, regionCount: regionIndex.size, zoneCount }
}

/**
 * Preference lists for one ring. Marks of what a list has used are stamps compared against a
 * per-call counter, so a list allocates only its result and the order it has read.
 */
export class PreferenceLists {
  private readonly walk: CandidateWalk
  private readonly topology: Topology
  private readonly takenStamp: Uint32Array
  private readonly regionStamp: Uint32Array
  private readonly zoneStamp: Uint32Array
  private stamp = 0

  constructor(walk: CandidateWalk, topology: Topology) {
    this.walk = walk
    this.topology = topology
    this.takenStamp = new Uint32Array(topology.regionOf.length)
    this.regionStamp = new Uint32Array(topology.regionCount)
    this.zoneStamp = new Uint32Array(topology.zoneCount)
  }

  /** The node indices of the preference list of the key at `position`, in the order chosen. */
  indices(position: number, replicaCount: number): number[] {
    const { regionOf, zoneOf, regionCount, zoneCount } = this.topology
    const wanted = Math.min(replicaCount, regionOf.length)
    const chosen: number[] = []
    if (wanted === 0) return chosen
    const stamp = this.nextStamp()
    this.walk.start(position)
    // The order is read lazily: often the first few nodes already span enough domains.
    const order: number[] = []
    for (let pass = 0; pass < 3 && chosen.length < wanted; pass++) {
      const target = Math.min(wanted, pass === 0 ? regionCount : pass === 1 ? zoneCount : wanted)
      for (let place = 0; chosen.length < target; place++) {
        if (place === order.length) {
          const next = this.walk.next()
          if (next < 0) break
          order.push(next)
        }
        const index = order[place]!
        if (this.takenStamp[index] === stamp) continue
        if (pass === 0 && this.regionStamp[regionOf[index]!] === stamp) continue
        if (pass === 1 && this.zoneStamp[zoneOf[index]!] === stamp) continue
        chosen.push(index)
        this.takenStamp[index] = stamp
        this.regionStamp[regionOf[index]!] = stamp
        this.zoneStamp[zoneOf[index]!] = stamp
      }
    }
    return chosen
  }

  private nextStamp(): number {
    this.stamp++
    if (this.stamp === 0xffffffff) {
      this.takenStamp.fill(0)
      this.regionStamp.fill(0)
      this.zoneStamp.fill(0)
      this.stamp = 1
    }
    return this.stamp
  }
}
