// The transaction record: the one durable truth about a transaction, kept in the
// coordination table. It names the participants (keys and their regions) but not the new
// values: those are staged inside each key's intent, so the record stays small. With at most
// operationsMax keys of at most keyLengthMaxBytes each it is under ~110 KB, always one item,
// so creating it is always exactly one write.
import type { ExpectedVersion, OperationKind } from './operations'
import type { Protocol, TransactionState } from './transaction-state'

export interface ParticipantEntry {
  /** The client's key, without the tenant. */
  key: string
  /** `${tenant}#${key}`: the store item key and the routing key. */
  storageKey: string
  region: string
  kind: OperationKind
  /** The ring version the region was chosen by; the store's gate checks it on a create. */
  ringVersion?: number
}

export type VoteNoReason =
  /** The key's version is not the expected one (or the key is absent/present against the expectation). */
  | 'version-mismatch'
  /** A delete of a key with no live value. */
  | 'not-found'
  /** Another transaction holds an intent on the key. */
  | 'intent-held'
  /** The participant did not answer (error, timeout, lost response). */
  | 'unavailable'

export type AbortReason =
  | 'vote-no'
  | 'participant-unavailable'
  | 'deadline-passed'
  | 'coordinator-lease-expired'
  | 'record-missing'

export interface OperationOutcome {
  key: string
  kind: OperationKind
  vote: 'yes' | 'no' | 'not-asked'
  reason?: VoteNoReason
  /** The version the key had when its vote was cast. */
  currentVersion?: number
  expectedVersion?: ExpectedVersion
  /** The transaction holding the key, for 'intent-held'. */
  heldBy?: string
  /** After a commit: the key's new version (puts and deletes) or its checked version. */
  version?: number
}

export interface TransactionRecord {
  tenant: string
  id: string
  state: TransactionState
  protocol: Protocol
  participants: ParticipantEntry[]
  fingerprint: string
  /** The coordinator's lease: until leaseUntilMs only `owner` may decide a PENDING record. */
  owner: string
  leaseUntilMs: number
  /** The coordinator stops waiting for votes at this time and aborts. */
  deadlineMs: number
  createdAtMs: number
  decidedAtMs?: number
  abortReason?: AbortReason
  outcomes?: OperationOutcome[]
  /** Present while the record is in the sparse `attention` index; the sweeper visits it from this time. */
  attentionDueAtMs?: number
  /** Epoch seconds after which DynamoDB's TTL may delete the record (set with the decision). */
  expiresAt?: number
  /** The correlation id of the request that created it, so the sweeper's logs name the work. */
  correlationId?: string
}

/** Idempotent retries are answered from the record for at least this long after the decision. */
export const outcomeRetentionMs = 25 * 60 * 60 * 1000

export function expiresAtFor(decidedAtMs: number): number {
  return Math.ceil((decidedAtMs + outcomeRetentionMs) / 1000)
}
