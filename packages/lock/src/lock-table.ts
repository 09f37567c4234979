// The LockTable port: the conditional writes of the lease protocol, and nothing else.
// Each method is ONE atomic conditional write (or one read) whose outcome is a typed
// result; a failed condition returns the item as the write saw it, so callers never
// need a second read to learn the holder. The DynamoDB adapter and the in-memory double
// (used only by the deterministic simulation) pass the same contract suite.

export interface LockKey {
  tenant: string
  name: string
}

/** A lock item. `owner`/`leaseUntilMs` are absent while the lock is free. */
export interface LockRecord {
  fence: number
  owner?: string
  leaseUntilMs?: number
  /** Wall-clock time of the last grant, renewal or release (for idle cleanup only). */
  updatedAtMs: number
}

export type LockWriteResult =
  | { ok: true; record: LockRecord }
  | {
      ok: false
      current: LockRecord | undefined
      /**
       * The write was sent more than once (the SDK retried it after a throttle, a 5xx or a
       * timeout), so an earlier send may have applied it: `current` may be its own effect.
       */
      resent?: boolean
    }

export interface GrantInput {
  owner: string
  leaseUntilMs: number
  /** Writer's clock reading; stored as updatedAtMs. */
  nowMs: number
  /** A held lease counts as expired when leaseUntilMs < expiredBeforeMs (now − skew margin). */
  expiredBeforeMs: number
}

export interface LockTable {
  /**
   * Takes an EXISTING lock that is free or expired, bumping its fence by one in the same
   * write. Fails (current undefined) when the item does not exist: creation goes through
   * `create`, which starts above the tenant's fence floor.
   */
  acquire(key: LockKey, grant: GrantInput): Promise<LockWriteResult>
  /** Creates the lock item held by `owner` with `fence`; fails if the item exists. */
  create(key: LockKey, grant: GrantInput & { fence: number }): Promise<LockWriteResult>
  /** Extends the lease; succeeds only while (owner, fence) still holds the lock. */
  renew(
    key: LockKey,
    input: { owner: string; fence: number; leaseUntilMs: number; nowMs: number },
  ): Promise<LockWriteResult>
  /** Frees the lock, keeping the item and its fence; only for the (owner, fence) holding it. */
  release(
    key: LockKey,
    input: { owner: string; fence: number; nowMs: number },
  ): Promise<LockWriteResult>
  /** Strongly consistent read of one lock. */
  read(key: LockKey): Promise<LockRecord | undefined>
  /** The tenant's fence floor: at least every fence of every deleted lock item (0 if none). */
  readFenceFloor(tenant: string): Promise<number>
  /**
   * Deletes an idle lock item (fence unchanged, free or expired, untouched since
   * idleBeforeMs) and raises the tenant's fence floor to at least its fence, atomically.
   */
  removeIdle(key: LockKey, input: { fence: number; idleBeforeMs: number }): Promise<LockWriteResult>
}

/** A lock as a listing shows it: the record with its name. */
export interface ListedLock extends LockRecord {
  name: string
}

export interface LockListQuery {
  limit: number
  /** Where the previous page ended (its nextCursor); absent for the first page. */
  cursor?: string
  /**
   * Only held locks (true) or only free ones (false). A lock counts as held while it has an
   * owner and leaseUntilMs >= heldSinceMs (the caller's now minus its skew margin).
   */
  held?: boolean
  heldSinceMs: number
}

/**
 * Listing a tenant's locks, by name, a page at a time: a read-only port apart from
 * LockTable, whose writes are the lease protocol and nothing else. The DynamoDB adapter
 * implements both; InvalidLockCursorError for a cursor the listing didn't issue.
 */
export interface LockListing {
  list(
    tenant: string,
    query: LockListQuery,
  ): Promise<{ locks: ListedLock[]; nextCursor: string | null }>
}
