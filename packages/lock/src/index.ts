/**
 * Lease locks with fencing tokens on DynamoDB conditional writes. `LockService` acquires
 * (one conditional write that takes a free or expired lock and bumps its fence), renews
 * and releases (each one write checked on owner AND fence), waits with bounded jittered
 * backoff, and `withLock` runs a function under a background-renewed lease with an
 * AbortSignal that fires before the lease can lapse. The fence of a name increases
 * forever (release keeps the item; cleanup raises a tenant floor), and protected
 * resources such as the KV store reject writes carrying a lower fence. Time and I/O sit
 * behind the Clock and LockTable ports: one DynamoDB adapter, one in-memory double for
 * the deterministic simulation, one contract suite for both.
 */
export { type Clock, systemClock } from './clock'
export { DynamoLockTable, fenceFloorItemKey, lockItemKey } from './dynamo-lock-table'
export {
  InvalidLockCursorError,
  LockError,
  LockHeldError,
  LockLostError,
  LockNotHeldError,
  LockTableUnavailableError,
} from './errors'
export {
  type BackoffPolicy,
  backoffDelayMs,
  defaultBackoff,
  leaseExpired,
  lockLimits,
  lockNamePattern,
  type RenewalTiming,
  renewalTiming,
  waitDelayMs,
} from './lease'
export {
  type AcquireOptions,
  type Lease,
  LockService,
  type LockServiceOptions,
  type LockState,
} from './lock-service'
export type {
  GrantInput,
  ListedLock,
  LockKey,
  LockListing,
  LockListQuery,
  LockRecord,
  LockTable,
  LockWriteResult,
} from './lock-table'
export { MemoryLockTable } from './memory-lock-table'
export { isTransientError } from './transient'
export { type LockContext, type WithLockOptions, withLock } from './with-lock'
