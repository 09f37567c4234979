// The lock package's one error hierarchy. Operating errors (a lock held by someone else,
// a lease lost to a takeover, the table unavailable for longer than the caller waits)
// are typed and carry what the caller needs to act; programmer errors are assertions.
import type { LockRecord } from './lock-table'

export class LockError extends Error {
  override name = 'LockError'
}

/** Another owner holds the lock; the fields come from the failed write (no extra read). */
export class LockHeldError extends LockError {
  override name = 'LockHeldError'
  readonly holder: string
  readonly fence: number
  readonly leaseUntilMs: number
  readonly attempts: number

  constructor(
    init: { name: string; holder: string; fence: number; leaseUntilMs: number; attempts: number },
    options?: ErrorOptions,
  ) {
    super(
      `lock ${JSON.stringify(init.name)} is held by ${JSON.stringify(init.holder)} (fence ${init.fence}) until ${init.leaseUntilMs}`,
      options,
    )
    this.holder = init.holder
    this.fence = init.fence
    this.leaseUntilMs = init.leaseUntilMs
    this.attempts = init.attempts
  }
}

/**
 * A renew or release named an (owner, fence) that no longer holds the lock: it was
 * released, or taken over after expiry. `current` is the lock as the failed write saw it
 * (undefined when the lock does not exist at all).
 */
export class LockNotHeldError extends LockError {
  override name = 'LockNotHeldError'
  readonly current: LockRecord | undefined

  constructor(
    init: { name: string; owner: string; fence: number; current: LockRecord | undefined },
    options?: ErrorOptions,
  ) {
    super(
      `${JSON.stringify(init.owner)} with fence ${init.fence} does not hold lock ${JSON.stringify(init.name)}`,
      options,
    )
    this.current = init.current
  }
}

/** The reason withLock's signal fires: the lease was lost or could not be renewed in time. */
export class LockLostError extends LockError {
  override name = 'LockLostError'
  readonly fence: number

  constructor(message: string, fence: number, options?: ErrorOptions) {
    super(message, options)
    this.fence = fence
  }
}

/** Transient table errors (throttling, timeouts) outlasted the caller's wait. */
export class LockTableUnavailableError extends LockError {
  override name = 'LockTableUnavailableError'
}

/** A listing cursor that this tenant's listing did not issue (malformed or foreign). */
export class InvalidLockCursorError extends LockError {
  override name = 'InvalidLockCursorError'
  constructor(options?: ErrorOptions) {
    super('the cursor is not one this listing issued', options)
  }
}
