/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, 2018): a key goes
 * to the first node in its order of preference that has room, where a node of weight w has
 * room while load + 1 ≤ ceil(loadFactor × (totalLoad + 1) × w / totalWeight). The + 1 counts
 * the key being placed, so when every load is a whole number and loadFactor ≥ 1 some node
 * always has room, and placing keys one by one never takes a node above its cap.
 *
 * It never throws over loads it is given. A load that is not a finite number ≥ 0 (NaN,
 * Infinity, negative, missing counts as 0) marks that node as full and leaves it out of the
 * total; if no node has room (fractional loads, or every node marked full), the key goes to the
 * node with the lowest (load + 1) / capacity among those with a finite load, nearest first on
 * ties, or to the plain owner if none has one, and the result says the cap was not met.
 */
import type { CandidateWalk } from './candidate-walk.ts'

export interface BoundedChoice {
  readonly index: number
  readonly withinCapacity: boolean
}

/**
 * `loads[i]` and `weights[i]` are by node index; `totalWeight` is their sum. Reads the order of
 * preference only as far as the first node with room.
 */
export function boundedOwnerIndex(
  walk: CandidateWalk,
  position: number,
  loads: Float64Array,
  weights: readonly number[],
  totalWeight: number,
  loadFactor: number,
): BoundedChoice {
  let totalLoad = 0
  for (const load of loads) if (Number.isFinite(load)) totalLoad += load
  const capacityPerWeight = (loadFactor * (totalLoad + 1)) / totalWeight
  walk.start(position)
  let fallback = -1
  let fallbackRatio = Number.POSITIVE_INFINITY
  let first = -1
  for (let index = walk.next(); index >= 0; index = walk.next()) {
    if (first < 0) first = index
    const load = loads[index]!
    if (!Number.isFinite(load)) continue
    const capacity = Math.ceil(capacityPerWeight * weights[index]!)
    if (load + 1 <= capacity) return { index, withinCapacity: true }
    const ratio = (load + 1) / capacity
    if (ratio < fallbackRatio) {
      fallback = index
      fallbackRatio = ratio
    }
  }
  return { index: fallback >= 0 ? fallback : first, withinCapacity: false }
}
