// The checker shared by the simulation and the contention test. It works from the
// protected resource's own history of accepted writes, in the order the resource
// accepted them, and checks mutual exclusion by fence order:
//   1. no accepted write carried a fence lower than one accepted before it (no stale write);
//   2. critical sections ordered by fence never overlap: all accepted writes of one fence
//      form one contiguous run (follows from 1, checked separately for clear reports);
//   3. each fence was written by one owner, the one the lock granted it to.
export interface AcceptedWrite {
  owner: string
  fence: number
}

export function checkFencedHistory(
  accepted: readonly AcceptedWrite[],
  grantedTo?: ReadonlyMap<number, string>,
): string[] {
  const violations: string[] = []
  const finished = new Set<number>()
  const writerOf = new Map<number, string>()
  let previous: AcceptedWrite | undefined
  for (const [index, write] of accepted.entries()) {
    if (previous && write.fence < previous.fence)
      violations.push(`write ${index}: stale fence ${write.fence} accepted after ${previous.fence}`)
    if (previous && previous.fence !== write.fence) finished.add(previous.fence)
    if (finished.has(write.fence))
      violations.push(
        `write ${index}: section of fence ${write.fence} resumed after another section`,
      )
    const writer = writerOf.get(write.fence)
    if (writer !== undefined && writer !== write.owner)
      violations.push(`write ${index}: fence ${write.fence} used by ${writer} and ${write.owner}`)
    writerOf.set(write.fence, write.owner)
    const grantee = grantedTo?.get(write.fence)
    if (grantedTo && grantee !== write.owner)
      violations.push(
        `write ${index}: fence ${write.fence} granted to ${grantee}, written by ${write.owner}`,
      )
    previous = write
  }
  return violations
}

/** Fences of one lock name must strictly increase grant after grant. */
export function checkGrantsIncrease(fences: readonly number[]): string[] {
  const violations: string[] = []
  for (let index = 1; index < fences.length; index++) {
    if (fences[index]! <= fences[index - 1]!)
      violations.push(`grant ${index}: fence ${fences[index]} after ${fences[index - 1]}`)
  }
  return violations
}

/** A write the protected resource saw, accepted or not, with what the lock had said by then. */
export interface RegisterWrite extends AcceptedWrite {
  accepted: boolean
  /** How many grants the lock had made when the write reached the resource. */
  grantsBefore: number
  /** Whether the writer had been told (its signal fired) that it lost the lock. */
  holderTold: boolean
}

/**
 * Checks the lock, not the resource, from the resource's full history and the lock's
 * grant log (in grant order):
 *   4. every write carries a fence granted to its writer before the write;
 *   5. a holder deposed by a later grant had been told before it wrote again: the lock's
 *      promise that fn's signal fires before anyone else can take over;
 *   6. a write is rejected only when a higher fence had been granted (the resource never
 *      turns away the current holder).
 */
export function checkHistoryAgainstGrants(
  writes: readonly RegisterWrite[],
  grants: readonly AcceptedWrite[],
): string[] {
  const violations: string[] = []
  for (const [index, write] of writes.entries()) {
    const grantedSoFar = grants.slice(0, write.grantsBefore)
    const grant = grantedSoFar.find((candidate) => candidate.fence === write.fence)
    if (grant?.owner !== write.owner)
      violations.push(
        `write ${index}: fence ${write.fence} by ${write.owner} was not granted to it before the write`,
      )
    const higher = grantedSoFar.find((candidate) => candidate.fence > write.fence)
    if (higher && !write.holderTold)
      violations.push(
        `write ${index}: ${write.owner} wrote with fence ${write.fence} after fence ${higher.fence} was granted, never told it lost the lock`,
      )
    if (!write.accepted && !higher)
      violations.push(`write ${index}: fence ${write.fence} rejected while it was the latest grant`)
  }
  return violations
}
