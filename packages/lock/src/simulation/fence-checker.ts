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
