// The layout of a KV item in a regional store table, shared by every package that writes
// store items (the KV store itself, fenced writes from lock holders, and transaction
// participants that stage intents). One definition, so they can't disagree.
//
// Item (table key attribute `pk`):
//   pk           S     storageKey(tenant, key): `${tenant}#${key}`; tenants contain no '#'
//   value        B     the committed value (absent on a tombstone)
//   contentType  S     media type of the value
//   version      N     strictly increasing per key, also across delete and re-create:
//                      a delete leaves a tombstone (deleted = true) with the next version
//   deleted      BOOL  true on a tombstone
//   fence        N     highest fencing token any accepted write carried (absent: none yet)
//   updatedAtMs  N     wall-clock time of the last write (informational only)
//   intent       M     a prepared transaction's pending write (absent: none), see Intent
//   movedTo      S     set when a ring migration handed the key to another region's table
//                      (ring-migration.ts): this copy is frozen, every write is refused,
//                      and once the destination holds it the value is stripped
//   placedAt     N     the ring version under which the key was created in, or copied
//                      into, this table: a handover by a handler on an older ring than
//                      that is refused (StaleRingError), so a stale handler can't move a
//                      key that a later migration brought back here
//
// One more item per table, pk `!ring` (storage keys always contain '#', so it can't
// collide), holds `gateVersion`: the ring version a migration raised the table to. A
// writer or reader that routed by an older ring gets StaleRingError instead of creating a
// key here or answering "absent", so a handler with a stale ring can't strand a write.
//
// While an intent is present, plain writes are refused (condition
// `attribute_not_exists(intent)`); reads return the committed value and the intent, and
// the caller resolves it through the transaction record (roll forward or back).

export const itemAttributes = {
  key: 'pk',
  value: 'value',
  contentType: 'contentType',
  version: 'version',
  deleted: 'deleted',
  fence: 'fence',
  updatedAtMs: 'updatedAtMs',
  intent: 'intent',
  movedTo: 'movedTo',
  placedAt: 'placedAt',
} as const

/** The per-table gate item (see above) and its attribute. */
export const ringGateKey = '!ring'
export const gateVersionAttribute = 'gateVersion'

/** A transaction's staged write on one key (attribute `intent`, a map). */
export interface Intent {
  transactionId: string
  operation: 'put' | 'delete'
  /** The new value for a put (attribute `value`, B, inside the map). */
  value?: Uint8Array
  contentType?: string
  /** Version the key had when the intent was staged; commit writes version + 1. */
  baseVersion: number
  preparedAtMs: number
}

export const tenantPattern = /^[a-z0-9][a-z0-9-]{0,62}$/

/** Tenants are namespaces in storage: every key is stored and routed as `${tenant}#${key}`. */
export function storageKey(tenant: string, key: string): string {
  if (!tenantPattern.test(tenant)) throw new RangeError(`invalid tenant ${JSON.stringify(tenant)}`)
  return `${tenant}#${key}`
}

/**
 * The string the ring hashes to pick a key's regional store. It is the storage key, so
 * every writer (KV, locks' fenced writes, transactions) routes a key to the same region.
 */
export const routingKey = storageKey
