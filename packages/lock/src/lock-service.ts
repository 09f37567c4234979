// Lease locks with fencing tokens over the LockTable port.
//
// Protocol timeline for one name (every arrow is ONE conditional write):
//
//   A: acquire ──► fence f, lease until tA          (free or expired → owner A, fence+1)
//   B: acquire ──✗ LockHeldError{A, f, tA}          (ALL_OLD tells B the holder, no read)
//   B: sleeps a jittered backoff (capped low), or until tA + margin if that is sooner
//   A: renew(A, f) ──► lease until tA'              (condition: owner = A AND fence = f)
//   A: release(A, f) ──► owner removed, fence kept  (same condition; the item stays)
//   B: acquire ──► fence f+1
//   …or A pauses past tA: B's clock passes tA + margin, B takes over with f+1; A's late
//   renew/release fail on the fence, and A's late store writes carry f < f+1 and are
//   rejected by the store. Clocks decide only when B may try; the fence decides safety.
//
// A lock item that does not exist is created at (tenant fence floor + 1) by a separate
// conditional create; idle items are removed only together with raising that floor, so
// the fence of a name increases forever.
import { type Clock, systemClock } from './clock'
import { LockHeldError, LockNotHeldError, LockTableUnavailableError } from './errors'
import {
  assertLockName,
  assertTenant,
  type BackoffPolicy,
  defaultBackoff,
  leaseExpired,
  lockLimits,
  waitDelayMs,
} from './lease'
import type {
  GrantInput,
  LockKey,
  LockListing,
  LockRecord,
  LockTable,
  LockWriteResult,
} from './lock-table'
import { isTransientError } from './transient'
import { type WithLockOptions, withLock } from './with-lock'

export interface Lease {
  tenant: string
  name: string
  owner: string
  fence: number
  /** Lease end on the holder's clock, computed from the time the write was SENT. */
  leaseUntilMs: number
  leaseMs: number
}

export interface AcquireOptions {
  leaseMs: number
  /** How long to keep trying while the lock is held (0: one attempt). */
  waitMs?: number
  /** Who holds it; defaults to a random id. Use a value unique to this holder. */
  owner?: string
}

export interface LockState {
  name: string
  fence: number
  held: boolean
  owner?: string
  leaseUntilMs?: number
}

export interface LockServiceOptions {
  table: LockTable
  /** Lists a tenant's locks; without it, `list` is unavailable. */
  listing?: LockListing
  clock?: Clock
  /** Largest clock difference between processes that takeover timing tolerates. */
  clockSkewMarginMs?: number
  backoff?: BackoffPolicy
  /** Attempts per acquire, on top of the waitMs deadline. */
  acquireAttemptsMax?: number
  random?: () => number
}

export class LockService {
  readonly table: LockTable
  readonly listing: LockListing | undefined
  readonly clock: Clock
  readonly clockSkewMarginMs: number
  readonly backoff: BackoffPolicy
  readonly acquireAttemptsMax: number
  readonly random: () => number

  constructor(options: LockServiceOptions) {
    this.table = options.table
    this.listing = options.listing
    this.clock = options.clock ?? systemClock
    this.clockSkewMarginMs = options.clockSkewMarginMs ?? 1_000
    this.backoff = options.backoff ?? defaultBackoff
    this.acquireAttemptsMax = options.acquireAttemptsMax ?? 5_000
    this.random = options.random ?? Math.random
  }

  async acquire(tenant: string, name: string, options: AcquireOptions): Promise<Lease> {
    const key = validKey(tenant, name)
    const { leaseMs } = options
    const waitMs = options.waitMs ?? 0
    const owner = options.owner ?? crypto.randomUUID()
    if (!(leaseMs >= lockLimits.leaseMsMin && leaseMs <= lockLimits.leaseMsMax))
      throw new RangeError(`leaseMs out of range: ${leaseMs}`)
    if (!(waitMs >= 0 && waitMs <= lockLimits.waitMsMax))
      throw new RangeError(`waitMs out of range: ${waitMs}`)
    const deadlineMs = this.clock.nowMs() + waitMs
    // After a transient error the write may have applied unseen (also when the SDK retried
    // it and only the retry answered). Finding the lock held with exactly a grant we sent
    // (owner, lease end and write time) means that write won, and we adopt it instead of
    // waiting on ourselves; the same owner name with any other grant is someone else's lease.
    const unconfirmedGrants: GrantInput[] = []
    let lastHolder: LockRecord | undefined
    let lastError: unknown
    for (let attempt = 1; attempt <= this.acquireAttemptsMax; attempt++) {
      const nowMs = this.clock.nowMs()
      const grant = {
        owner,
        nowMs,
        leaseUntilMs: nowMs + leaseMs,
        expiredBeforeMs: nowMs - this.clockSkewMarginMs,
      }
      try {
        let result = await this.table.acquire(key, grant)
        if (!result.ok && result.current === undefined) result = await this.createLock(key, grant)
        if (result.ok)
          return this.lease(key, owner, result.record.fence, grant.leaseUntilMs, leaseMs)
        const current = result.current
        const candidates = result.resent ? [...unconfirmedGrants, grant] : unconfirmedGrants
        if (current && candidates.some((sent) => isGrantOf(current, sent)))
          return this.lease(key, owner, current.fence, current.leaseUntilMs!, leaseMs)
        lastHolder = current
        lastError = undefined
        // Free (or expired on our clock) but our write lost a race: try again at once.
        if (!isHeld(current, this.clock.nowMs(), this.clockSkewMarginMs)) continue
      } catch (error) {
        if (!isTransientError(error)) throw error
        unconfirmedGrants.push(grant)
        lastError = error
      }
      const afterMs = this.clock.nowMs()
      if (afterMs >= deadlineMs || attempt === this.acquireAttemptsMax) break
      await this.clock.sleep(
        waitDelayMs({
          attempt,
          nowMs: afterMs,
          deadlineMs,
          holderLeaseUntilMs: lastHolder?.leaseUntilMs,
          clockSkewMarginMs: this.clockSkewMarginMs,
          policy: this.backoff,
          random: this.random,
        }),
      )
    }
    if (lastError !== undefined || !lastHolder?.owner)
      throw new LockTableUnavailableError(`lock ${name} could not be acquired`, {
        cause: lastError,
      })
    throw new LockHeldError({
      name,
      holder: lastHolder.owner,
      fence: lastHolder.fence,
      leaseUntilMs: lastHolder.leaseUntilMs ?? 0,
      attempts: this.acquireAttemptsMax,
    })
  }

  /** Extends a lease held by (owner, fence); LockNotHeldError after a release or takeover. */
  async renew(
    tenant: string,
    name: string,
    input: { owner: string; fence: number; leaseMs: number },
  ): Promise<Lease> {
    const key = validKey(tenant, name)
    const nowMs = this.clock.nowMs()
    const leaseUntilMs = nowMs + input.leaseMs
    const result = await this.table.renew(key, { ...input, leaseUntilMs, nowMs })
    if (!result.ok) throw new LockNotHeldError({ ...input, name, current: result.current })
    return this.lease(key, input.owner, input.fence, leaseUntilMs, input.leaseMs)
  }

  /**
   * Frees a lock held by (owner, fence). A retry after a lost answer finds the lock
   * already free at the same fence and succeeds; anything else (someone else holds it,
   * or it moved on to a higher fence) is LockNotHeldError, never a false success.
   */
  async release(tenant: string, name: string, input: { owner: string; fence: number }) {
    const key = validKey(tenant, name)
    const result = await this.table.release(key, { ...input, nowMs: this.clock.nowMs() })
    if (result.ok) return
    const current = result.current
    if (current && current.fence === input.fence && current.owner === undefined) return
    throw new LockNotHeldError({ ...input, name, current })
  }

  /** The lock as stored now (undefined if it never existed or was cleaned up). */
  async inspect(tenant: string, name: string): Promise<LockState | undefined> {
    const record = await this.table.read(validKey(tenant, name))
    if (!record) return undefined
    const held = isHeld(record, this.clock.nowMs(), this.clockSkewMarginMs)
    return {
      name,
      fence: record.fence,
      held,
      ...(held && { owner: record.owner, leaseUntilMs: record.leaseUntilMs }),
    }
  }

  /**
   * The tenant's locks by name, a page at a time, optionally only held (or only free)
   * ones. Held means what `inspect` says: an owner whose lease hasn't expired on this
   * clock with the skew margin.
   */
  async list(
    tenant: string,
    query: { limit: number; cursor?: string; held?: boolean },
  ): Promise<{ items: LockState[]; nextCursor: string | null }> {
    assertTenant(tenant)
    if (!this.listing) throw new Error('this LockService was built without a listing')
    const nowMs = this.clock.nowMs()
    const page = await this.listing.list(tenant, {
      ...query,
      heldSinceMs: nowMs - this.clockSkewMarginMs,
    })
    const items = page.locks.map((record) => {
      const held = isHeld(record, nowMs, this.clockSkewMarginMs)
      return {
        name: record.name,
        fence: record.fence,
        held,
        ...(held && { owner: record.owner, leaseUntilMs: record.leaseUntilMs }),
      }
    })
    return { items, nextCursor: page.nextCursor }
  }

  /**
   * Deletes the lock item if it has been idle (free, or expired, and untouched) for
   * idleForMs, raising the tenant's fence floor in the same transaction. Returns whether
   * it was removed.
   */
  async cleanupIdle(tenant: string, name: string, input: { idleForMs: number }) {
    const key = validKey(tenant, name)
    const record = await this.table.read(key)
    if (!record) return false
    const idleBeforeMs = this.clock.nowMs() - input.idleForMs - this.clockSkewMarginMs
    const result = await this.table.removeIdle(key, { fence: record.fence, idleBeforeMs })
    return result.ok
  }

  /** Runs fn while holding the lock; see with-lock.ts. */
  withLock<T>(
    tenant: string,
    name: string,
    fn: Parameters<typeof withLock<T>>[3],
    options: WithLockOptions,
  ) {
    return withLock(this, tenant, name, fn, options)
  }

  private async createLock(
    key: LockKey,
    grant: { owner: string; nowMs: number; leaseUntilMs: number; expiredBeforeMs: number },
  ): Promise<LockWriteResult> {
    const floor = await this.table.readFenceFloor(key.tenant)
    return this.table.create(key, { ...grant, fence: floor + 1 })
  }

  private lease(key: LockKey, owner: string, fence: number, leaseUntilMs: number, leaseMs: number) {
    return { tenant: key.tenant, name: key.name, owner, fence, leaseUntilMs, leaseMs }
  }
}

function validKey(tenant: string, name: string): LockKey {
  assertTenant(tenant)
  assertLockName(name)
  return { tenant, name }
}

function isHeld(record: LockRecord | undefined, nowMs: number, marginMs: number): boolean {
  return (
    record?.owner !== undefined &&
    record.leaseUntilMs !== undefined &&
    !leaseExpired(record.leaseUntilMs, nowMs, marginMs)
  )
}

/** The lock record is exactly what `grant` wrote: that write applied (owner names may repeat). */
function isGrantOf(record: LockRecord, grant: GrantInput): boolean {
  return (
    record.owner === grant.owner &&
    record.leaseUntilMs === grant.leaseUntilMs &&
    record.updatedAtMs === grant.nowMs
  )
}
