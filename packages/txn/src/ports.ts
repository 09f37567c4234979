// The ports the protocol runs over. Each has one DynamoDB adapter (./dynamodb) and one
// in-memory double (./memory) for the deterministic simulation; the contract suite in
// ./contract runs against both so the double can't drift from the engine.
import type { Intent } from '@meridian/store'
import type { ExpectedVersion } from './operations'
import type { AbortReason, OperationOutcome, TransactionRecord, VoteNoReason } from './record'
import type { TransactionState } from './transaction-state'

export interface Clock {
  nowMs(): number
}

export const systemClock: Clock = { nowMs: () => Date.now() }

/**
 * Which regional store owns a routing key: the ring's first owner (transactions use
 * replication factor 1). May be asynchronous, since the ring config is loaded and cached.
 */
export interface KeyRouter {
  regionOf(routingKey: string): string | Promise<string>
  /**
   * Where a transaction stages its write now, with the ring version that chose it; while
   * the ring migrates this first moves the key to its new owner. Routers without one use
   * regionOf and no gate check.
   */
  placementOf?(routingKey: string): Promise<{ region: string; ringVersion: number }>
}

export interface TransitionRequest {
  tenant: string
  id: string
  from: TransactionState
  to: TransactionState
  /** Recovery's takeover: applies only if the coordinator's lease ended before this time. */
  leaseExpiredAtMs?: number
  decidedAtMs?: number
  abortReason?: AbortReason
  outcomes?: OperationOutcome[]
  /** The new time the sweeper visits the record from. */
  attentionDueAtMs?: number
  expiresAt?: number
}

export type CreateResult = { created: true } | { created: false; existing: TransactionRecord }

export type TransitionResult =
  | { applied: true; record: TransactionRecord }
  | { applied: false; current: TransactionRecord | undefined }

export interface AttentionQuery {
  /** Only records the sweeper is due to visit before this time; all when omitted. */
  dueBeforeMs?: number
  tenant?: string
  limit: number
}

export interface TransactionLog {
  /** One conditional write: creates the record only if no record with this id exists. */
  create(record: TransactionRecord): Promise<CreateResult>
  /** One conditional write from `from` to `to`; the current record when the condition fails. */
  transition(request: TransitionRequest): Promise<TransitionResult>
  read(tenant: string, id: string): Promise<TransactionRecord | undefined>
  /** Records in the sparse attention index, oldest due first (a query, never a scan). */
  listAttention(query: AttentionQuery): Promise<TransactionRecord[]>
  /** Takes a final record out of the attention index; false if it is not final. */
  clearAttention(tenant: string, id: string): Promise<boolean>
}

export type Vote =
  | { vote: 'yes'; baseVersion: number }
  | { vote: 'no'; reason: VoteNoReason; currentVersion: number; heldBy?: string }

export interface PrepareRequest {
  region: string
  storageKey: string
  transactionId: string
  operation: 'put' | 'delete'
  value?: Uint8Array
  contentType?: string
  expectedVersion?: ExpectedVersion
  nowMs: number
  /** See ParticipantEntry.ringVersion. */
  ringVersion?: number
}

export interface CheckRequest {
  region: string
  storageKey: string
  transactionId: string
  expectedVersion: ExpectedVersion
}

export interface ApplyRequest {
  region: string
  storageKey: string
  transactionId: string
  /** The intent's operation (the record knows it): the write differs for put and delete. */
  operation: 'put' | 'delete'
  nowMs: number
}

/** A store item as the protocol sees it. */
export interface ParticipantItem {
  version: number
  deleted: boolean
  value?: Uint8Array
  contentType?: string
  intent?: Intent
  /** Set when a ring migration handed the key to another region (this copy is frozen). */
  movedTo?: string
}

export interface Participant {
  /** Stages the write as an intent naming the transaction: one conditional write. Idempotent. */
  prepare(request: PrepareRequest): Promise<Vote>
  /** Validates a version without writing (a strongly consistent read). */
  check(request: CheckRequest): Promise<Vote>
  /** Applies the intent if (and only if) this transaction holds it. */
  apply(request: ApplyRequest): Promise<'applied' | 'not-held'>
  /** Removes the intent if (and only if) this transaction holds it. */
  discard(
    region: string,
    storageKey: string,
    transactionId: string,
  ): Promise<'discarded' | 'not-held'>
  /** A strongly consistent read; undefined when the item does not exist. */
  read(region: string, storageKey: string): Promise<ParticipantItem | undefined>
}
