// The port of one regional store: the operations on KV items in one region's table. The
// DynamoDB adapter implements it (dynamo-regional-store.ts); the contract suite in
// test/integration/store checks every implementation against the same expectations.
import type { Intent } from './item-format'

/** An item as read from a regional store. */
export interface StoredItem {
  storageKey: string
  version: number
  /** True on a tombstone: the key was deleted; `value` is absent. */
  deleted: boolean
  value?: Uint8Array
  contentType?: string
  /** Highest fencing token an accepted write carried; undefined when none did. */
  fence?: number
  intent?: Intent
  updatedAtMs?: number
  /** Set on a copy a ring migration handed to this region; the copy is frozen. */
  movedTo?: string
  /** The ring version the key was created or copied here under (see item-format.ts). */
  placedAt?: number
}

export interface ReadOptions {
  /**
   * The ring version the caller routed by. When the key has no item here, or only a copy a
   * migration froze (movedTo), the answer stands only if the table's gate is not newer;
   * otherwise StaleRingError (the caller's ring predates the migration that moved it).
   */
  ringVersion?: number
}

export interface CopyOptions {
  /**
   * A repair (read repair, anti-entropy) rather than a migration's copy: it never replaces
   * a frozen copy, and answers false instead. Replacing one would revive a copy that a
   * migration moved away, where a handler on an older ring could then write.
   */
  repair?: boolean
}

export interface WriteOptions {
  /**
   * Compare-and-swap: the write applies only if the key's version is this number, or, for
   * 'absent', if the key has no live value (never written, or a tombstone).
   */
  expectedVersion?: number | 'absent'
  /**
   * A lock's fencing token. The write is refused if it is lower than the key's recorded fence;
   * when accepted, the recorded fence becomes this token, so it never decreases. A write
   * without a fence is accepted and leaves the recorded fence as it is: a key protected by a
   * lock is only protected if every writer passes the token.
   */
  fence?: number
  /**
   * For replicated writes only: the version the coordinator assigned. The replica applies
   * the write if its own version is lower (or absent) and takes this version; without it the
   * replica assigns its current version + 1.
   */
  assignedVersion?: number
  /**
   * The ring version the caller routed by. A write that would create the key (a put, also
   * a replicated one with assignedVersion, on a table with no copy) checks it against the
   * table's gate (StaleRingError when the gate is newer), in one transaction. Callers
   * outside the ring (contract tests) leave it out: no gate check.
   */
  ringVersion?: number
  /** Refuse with ItemAbsentError, writing nothing, when the table has no copy of the key. */
  requireItem?: boolean
}

export interface PutValue {
  value: Uint8Array
  contentType: string
}

export interface WriteResult {
  version: number
  /** True when the key had no live value before this put (new key or re-create). */
  created: boolean
}

export interface RegionalStore {
  /** A strongly consistent read; undefined when the key was never written. */
  get(storageKey: string, options?: ReadOptions): Promise<StoredItem | undefined>
  /**
   * Writes a value in one conditional write. Throws VersionMismatchError, StaleFenceError or
   * KeyInTransactionError when the condition fails (checked in that order of precedence:
   * intent, fence, version).
   */
  put(storageKey: string, value: PutValue, options?: WriteOptions): Promise<WriteResult>
  /**
   * Deletes by writing a tombstone with the next version, so versions keep increasing when
   * the key is re-created. Throws KeyNotFoundError when there is no live value, and the
   * same errors as put.
   */
  delete(storageKey: string, options?: WriteOptions): Promise<WriteResult>

  // Ring migration (ring-migration.ts). Each is one conditional write, safe to repeat.
  /** Raises the table's gate to `ringVersion` (never lowers it). */
  raiseGate(ringVersion: number): Promise<void>
  /**
   * Marks the key's copy as handed to `region` by a handler on ring `ringVersion` and
   * returns it as frozen; undefined when the table has no copy (nothing to move, nothing
   * written). KeyInTransactionError while an intent is held; StaleRingError when the copy
   * was placed here under `ringVersion` or a later ring.
   */
  freeze(storageKey: string, region: string, ringVersion: number): Promise<StoredItem | undefined>
  /**
   * Writes a frozen copy from another table here (placed at `ringVersion`), unless this
   * table already holds the key at that version or newer. Returns true when it wrote.
   */
  copyIn(item: StoredItem, ringVersion: number, options?: CopyOptions): Promise<boolean>
  /** Drops the value of a frozen copy at `version` (the destination holds it); keeps the marker. */
  strip(storageKey: string, version: number): Promise<void>
  /**
   * Deletes a frozen copy at `version`, marker and all (R > 1: the new replicas hold it, and
   * the gate answers a handler on an older ring where the copy was). Nothing otherwise.
   */
  drop(storageKey: string, version: number): Promise<void>
  // The same three steps for many keys at once (a range task's page), all or nothing: each
  // writes nothing when any key's condition fails, and the caller goes key by key instead.
  // freezeAll also requires each copy to be exactly as given (same version, not frozen), so
  // the given items are the frozen copies; it answers the items it refused (empty when it
  // froze them all; then nothing was written), so the caller can freeze the others again
  // without them instead of searching for them.
  freezeAll(
    items: readonly StoredItem[],
    region: string,
    ringVersion: number,
  ): Promise<StoredItem[]>
  copyInAll(items: readonly StoredItem[], ringVersion: number): Promise<boolean>
  stripAll(items: readonly StoredItem[]): Promise<boolean>
  /**
   * The copies this table holds of `storageKeys` (strongly consistent, batched), by key; a
   * key with no copy is missing from the map. Anti-entropy compares replicas with it.
   */
  getMany(storageKeys: readonly string[]): Promise<Map<string, StoredItem>>
  /** Every item of segment `segment` of `totalSegments`, a page at a time (strongly consistent). */
  scan(segment: number, totalSegments: number): AsyncIterable<StoredItem[]>
}
