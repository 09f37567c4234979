// The store's one error hierarchy. Operating errors (a version that moved on, a stale
// fence, a key held by a transaction, a replica that didn't answer) are typed and carry
// what the caller needs to decide; the HTTP layer maps each to a stable problem type.

export class StoreError extends Error {
  override name = 'StoreError'
}

/** A compare-and-swap found another version than the one it expected. */
export class VersionMismatchError extends StoreError {
  override name = 'VersionMismatchError'
  constructor(
    readonly key: string,
    /** A version number, or 'absent' for a create-only write. */
    readonly expectedVersion: number | 'absent',
    /** The key's current version; undefined when the key never existed. */
    readonly actualVersion: number | undefined,
    options?: ErrorOptions,
  ) {
    super(
      `version mismatch on ${JSON.stringify(key)}: expected ${expectedVersion}, found ${actualVersion ?? 'none'}`,
      options,
    )
  }
}

/** A write carried a fencing token lower than the highest the key has accepted. */
export class StaleFenceError extends StoreError {
  override name = 'StaleFenceError'
  constructor(
    readonly key: string,
    readonly fence: number,
    readonly recordedFence: number,
    options?: ErrorOptions,
  ) {
    super(
      `stale fence ${fence} on ${JSON.stringify(key)}: recorded fence is ${recordedFence}`,
      options,
    )
  }
}

/** A prepared transaction holds the key (its item carries an intent); plain writes wait. */
export class KeyInTransactionError extends StoreError {
  override name = 'KeyInTransactionError'
  constructor(
    readonly key: string,
    readonly transactionId: string,
    options?: ErrorOptions,
  ) {
    super(`${JSON.stringify(key)} is held by transaction ${transactionId}`, options)
  }
}

/** A delete (or a read through the service) found no live value: never written, or a tombstone. */
export class KeyNotFoundError extends StoreError {
  override name = 'KeyNotFoundError'
  constructor(
    readonly key: string,
    /** The tombstone's version when the key was deleted; undefined when it never existed. */
    readonly version: number | undefined,
    options?: ErrorOptions,
  ) {
    super(`no value for ${JSON.stringify(key)}`, options)
  }
}

export type InvalidKeyReason = 'empty' | 'too-long' | 'invalid-utf8'

export class InvalidKeyError extends StoreError {
  override name = 'InvalidKeyError'
  constructor(
    readonly reason: InvalidKeyReason,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(`invalid key (${reason}): ${detail}`, options)
  }
}

export class ValueTooLargeError extends StoreError {
  override name = 'ValueTooLargeError'
  constructor(
    readonly sizeBytes: number,
    readonly limitBytes: number,
    options?: ErrorOptions,
  ) {
    super(`value of ${sizeBytes} bytes exceeds the limit of ${limitBytes} bytes`, options)
  }
}

export class InvalidContentTypeError extends StoreError {
  override name = 'InvalidContentTypeError'
  constructor(
    readonly contentType: string,
    options?: ErrorOptions,
  ) {
    super(`invalid content type ${JSON.stringify(contentType)}`, options)
  }
}

/**
 * A replicated operation could not gather its quorum because replicas failed (not because
 * of a conflict, which is reported as the conflict's own error).
 */
export class QuorumNotReachedError extends StoreError {
  override name = 'QuorumNotReachedError'
  constructor(
    readonly key: string,
    readonly required: number,
    readonly succeeded: number,
    readonly failures: readonly unknown[],
    options?: ErrorOptions,
  ) {
    super(
      `${JSON.stringify(key)}: ${succeeded} of ${required} required replicas answered`,
      options ?? { cause: failures[0] },
    )
  }
}

/** A ring config change expected another version than the stored one. */
export class RingVersionMismatchError extends StoreError {
  override name = 'RingVersionMismatchError'
  constructor(
    readonly expectedVersion: number | 'absent',
    readonly actualVersion: number | undefined,
    options?: ErrorOptions,
  ) {
    super(
      `ring config version mismatch: expected ${expectedVersion}, found ${actualVersion ?? 'none'}`,
      options,
    )
  }
}

/** A ring config is malformed or names a region that has no store. */
export class InvalidRingConfigError extends StoreError {
  override name = 'InvalidRingConfigError'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
  }
}

/**
 * The ring sends a key to a region this service has no store for. A regional API (edge
 * mode) holds only its own region's store: when the ring changes under a request it
 * decided to serve itself, this is how it learns to send the request home instead. Thrown
 * before any write of the attempt that meets it.
 */
export class RegionNotServedError extends InvalidRingConfigError {
  override name = 'RegionNotServedError'
  constructor(
    readonly region: string,
    message: string,
  ) {
    super(message)
  }
}

/** The ring config could not be loaded and the cached copy is older than the staleness bound. */
export class RingUnavailableError extends StoreError {
  override name = 'RingUnavailableError'
}

/**
 * The key was handed to another region's table by a ring migration; this copy is frozen.
 * The caller routed by an older ring: reload it and retry at `region`.
 */
export class KeyMovedError extends StoreError {
  override name = 'KeyMovedError'
  constructor(
    readonly key: string,
    readonly region: string,
    options?: ErrorOptions,
  ) {
    super(`${JSON.stringify(key)} moved to ${region}`, options)
  }
}

/**
 * A table refused a create or an "absent" answer because a ring migration raised it to a
 * newer ring version than the caller routed by: reload the ring and retry.
 */
export class StaleRingError extends StoreError {
  override name = 'StaleRingError'
  constructor(
    readonly key: string,
    readonly routedVersion: number,
    readonly gateVersion: number,
    options?: ErrorOptions,
  ) {
    super(
      `${JSON.stringify(key)} routed by ring version ${routedVersion}; the table is at ${gateVersion}`,
      options,
    )
  }
}

/** A write that required an existing copy of the key found none (ring migration internals). */
export class ItemAbsentError extends StoreError {
  override name = 'ItemAbsentError'
  constructor(
    readonly key: string,
    options?: ErrorOptions,
  ) {
    super(`${JSON.stringify(key)} has no copy in this table`, options)
  }
}

/** The key's ring change is still settling (a migration is raising its gates); retry shortly. */
export class RingChangingError extends StoreError {
  override name = 'RingChangingError'
}

/** A ring change was asked for while a migration runs; one migration at a time. */
export class RingMigrationInProgressError extends StoreError {
  override name = 'RingMigrationInProgressError'
}

/** A ring change this deployment can't carry out online (no migration queue is wired). */
export class RingChangeUnsupportedError extends StoreError {
  override name = 'RingChangeUnsupportedError'
}

/** The key's region is suspected down (failure-detector.ts): answered at once, not retried. */
export class RegionUnavailableError extends StoreError {
  override name = 'RegionUnavailableError'
  constructor(
    readonly region: string,
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super(`region ${region} is not answering; retry in ${retryAfterSeconds} s`, options)
  }
}
