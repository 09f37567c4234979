// The limit on a tenant's concurrently running jobs, as slots: slot items 0..max-1 per
// tenant, each naming the job that holds it. A submit takes a free slot with one conditional
// write, so concurrent submits can never hold more slots than the limit. Nothing has to
// give a slot back when a job ends (its last task, a poison message, a cancel, the sweeper
// all end jobs): the next submit that finds every slot held reads the holders and takes
// over, by a write conditioned on the old holder, a slot whose job has finished.
//
// Timeline of one submit:
//   list the tenant's slots (one query)
//   a slot held by this job id already      -> keep it (a retried submit)
//   a slot index with no item               -> put it if still absent; lost -> next index
//   every slot held                         -> read the holders' jobs; a finished one (or a
//                                              claim whose job never appeared within the
//                                              creation grace: a submit that crashed) is
//                                              taken if still held by that job
//   none, and no slot names this job now    -> TooManyRunningJobsError
// A submit that lost a slot to a concurrent submit of the same job id shares that slot; the
// one that created the job keeps its slot, a second slot claimed for it is given back.
import { TooManyRunningJobsError } from './errors'
import { isTerminal } from './job-model'
import type { JobStore } from './ports'

export interface SlotClaim {
  index: number
  jobId: string
  claimedAtMs: number
}

export interface JobSlotStore {
  /** The tenant's slot items, strongly consistent. */
  list(tenant: string): Promise<SlotClaim[]>
  /** Writes the claim if the slot has no item, or with `replacing`, if that job still holds it. */
  claim(tenant: string, claim: SlotClaim, replacing?: string): Promise<boolean>
  /** Deletes the slot item if `jobId` still holds it. */
  release(tenant: string, index: number, jobId: string): Promise<void>
}

export interface RunningJobLimit {
  slots: JobSlotStore
  /** An integer ≥ 1 (asserted by JobService). */
  runningJobsPerTenantMax: number
  /**
   * A claim whose job doesn't exist yet is a submit still planning its input, until this
   * long after the claim; after it, the submit is taken to have crashed.
   */
  creationGraceMs?: number
}

/** Longer than any submit takes to plan its input and create the job (an API request). */
export const slotCreationGraceMsDefault = 120_000

/**
 * The slot a submit holds. `claimedNow` is false when a concurrent submit of the same job id
 * had claimed it: only the submit that claimed a slot may give it back.
 */
export interface HeldSlot {
  index: number
  claimedNow: boolean
}

/** Claims a slot for `jobId`; TooManyRunningJobsError when none is free. */
export async function claimRunningJobSlot(
  limit: RunningJobLimit,
  jobs: Pick<JobStore, 'get'>,
  tenant: string,
  jobId: string,
  nowMs: number,
): Promise<HeldSlot> {
  const max = limit.runningJobsPerTenantMax
  const held = await limit.slots.list(tenant)
  const mine = held.find((claim) => claim.jobId === jobId)
  if (mine) return { index: mine.index, claimedNow: false }

  const heldIndexes = new Set(held.map((claim) => claim.index))
  for (let index = 0; index < max; index++) {
    if (heldIndexes.has(index)) continue
    if (await limit.slots.claim(tenant, { index, jobId, claimedAtMs: nowMs }))
      return { index, claimedNow: true }
  }

  const candidates = held.filter((claim) => claim.index < max)
  const holders = await Promise.all(candidates.map((claim) => jobs.get(tenant, claim.jobId)))
  const graceMs = limit.creationGraceMs ?? slotCreationGraceMsDefault
  for (const [position, claim] of candidates.entries()) {
    const holder = holders[position]
    const finished = holder ? isTerminal(holder.state) : nowMs - claim.claimedAtMs > graceMs
    if (!finished) continue
    const taken = await limit.slots.claim(
      tenant,
      { index: claim.index, jobId, claimedAtMs: nowMs },
      claim.jobId,
    )
    if (taken) return { index: claim.index, claimedNow: true }
  }
  // The slots we lost may have gone to a concurrent submit of this same job.
  const mineNow = (await limit.slots.list(tenant)).find((claim) => claim.jobId === jobId)
  if (mineNow) return { index: mineNow.index, claimedNow: false }
  throw new TooManyRunningJobsError(tenant, max)
}
