// The coordinator: runs one transaction from its record's creation to its decision and the
// application of that decision. Safety never depends on it finishing: any reader or the
// sweeper can finish from the record (recovery.ts).
//
// Timeline of a 2PC transaction over N written keys (writes numbered; 2N+2 in all):
//
//   t0  create the record PENDING, lease owner+leaseUntilMs, in the attention index
//       (due at leaseUntilMs)                                                          write 1
//   t1  prepare every written key in parallel: one conditional write each staging the
//       new value as an intent naming the transaction (refused on a foreign intent or
//       a version mismatch, with the reason)                                        writes N
//   t2  validate check-only keys with strongly consistent reads (no writes)
//   t3  the decision: one conditional write PENDING -> COMMITTED (the commit point), or
//       PENDING -> ABORTED with the reason per operation. It also sets the record's TTL
//       and moves its attention due time to decidedAtMs + lateWriteGraceMs         write 1
//   t4  apply (or discard) every intent in parallel, each conditional on the intent
//       still naming this transaction                                                writes N
//
// There is no "done" write: the record stays in the attention index until the sweeper's
// visit after lateWriteGraceMs, which reads the keys (reads, no writes), finds nothing
// left to do, and removes the index attributes with one deferred write off the request
// path. Waiting out lateWriteGraceMs is what lets the sweeper also clean a zombie
// coordinator's late prepare that landed after an abort.
//
// 3PC adds one write between t2 and t3: PENDING -> PRECOMMITTED, after which recovery
// commits instead of aborting; the commit point is then PRECOMMITTED -> COMMITTED.
//
// A coordinator that loses its lease (slow, paused, partitioned) is fenced by the record:
// its decision is a conditional write from PENDING, so it fails if recovery aborted the
// transaction first, and the coordinator then discards its own intents. Apply and discard
// act only on an intent naming this transaction, so a zombie can't touch anyone else's.

import { storageKey } from '@meridian/store'
import {
  CoordinatorCrashError,
  InvalidTransactionError,
  TransactionIdReusedError,
  TransactionInProgressError,
  TransactionOutcomeUnknownError,
} from './errors'
import { operationsFingerprint, type TransactionOperation, validateTransaction } from './operations'
import type {
  Clock,
  KeyRouter,
  Participant,
  TransactionLog,
  TransitionRequest,
  Vote,
} from './ports'
import {
  type AbortReason,
  expiresAtFor,
  type OperationOutcome,
  type ParticipantEntry,
  type TransactionRecord,
} from './record'
import { finishTransaction } from './recovery'
import {
  assertTransition,
  isFinal,
  type Protocol,
  type TransactionState,
} from './transaction-state'

export interface TransactionPorts {
  log: TransactionLog
  participant: Participant
  clock: Clock
  router: KeyRouter
}

/** Where a coordinator can be made to die in tests: after each write of the protocol. */
export type CrashPoint =
  | 'after-create'
  | `after-prepare-${number}`
  | 'after-precommit'
  | 'after-commit'
  | 'after-abort'
  | `after-apply-${number}`
  | `after-discard-${number}`

export interface FaultInjection {
  /** Called after each write the coordinator made; throwing CoordinatorCrashError kills it there. */
  afterWrite?(point: CrashPoint): void
}

export interface CoordinatorOptions {
  /** Identifies this coordinator in the record's lease. */
  owner: string
  /** How long the coordinator waits for votes before it aborts. */
  transactionTimeoutMs: number
  /** Added to the deadline to form the lease, so a slow clock can't make recovery early. */
  clockSkewMarginMs: number
  /** How long after a decision the sweeper waits before its final visit (≥ a write's timeout). */
  lateWriteGraceMs: number
  /** Bound on retries of the create and decision writes when their answers are lost. */
  recordWriteAttemptsMax: number
  faults?: FaultInjection
}

export const defaultCoordinatorOptions: Omit<CoordinatorOptions, 'owner'> = {
  transactionTimeoutMs: 5_000,
  clockSkewMarginMs: 1_000,
  lateWriteGraceMs: 30_000,
  recordWriteAttemptsMax: 3,
}

export interface TransactionRequest {
  tenant: string
  id: string
  protocol: Protocol
  operations: readonly TransactionOperation[]
  /** The work this transaction belongs to; kept on the record so recovery logs can name it. */
  correlationId?: string
}

export interface TransactionOutcome {
  id: string
  state: 'COMMITTED' | 'ABORTED'
  abortReason?: AbortReason
  operations: OperationOutcome[]
  /** True when the answer came from an earlier attempt with the same id. */
  replayed: boolean
}

function rethrowCrash(error: unknown): void {
  if (error instanceof CoordinatorCrashError) throw error
}

function outcomeOf(record: TransactionRecord, replayed: boolean): TransactionOutcome {
  if (!isFinal(record.state)) throw new Error(`record ${record.id} is not final`)
  const outcome: TransactionOutcome = {
    id: record.id,
    state: record.state,
    operations: record.outcomes ?? [],
    replayed,
  }
  if (record.abortReason) outcome.abortReason = record.abortReason
  return outcome
}

export async function executeTransaction(
  ports: TransactionPorts,
  request: TransactionRequest,
  options: CoordinatorOptions,
): Promise<TransactionOutcome> {
  const problem = validateTransaction(request.operations, request.id)
  if (problem) throw new InvalidTransactionError(problem)
  const record = await newRecord(ports, request, options)
  const existing = await createRecord(ports.log, record, options)
  if (existing) return replay(ports, existing, record, options)
  options.faults?.afterWrite?.('after-create')

  const votes = await prepareAll(ports, request, record, options)
  const outcomes = request.operations.map((operation, index) =>
    outcomeOfVote(operation, votes[index]),
  )
  const abortReason = abortReasonOf(votes, ports.clock.nowMs() > record.deadlineMs)

  let decided: TransactionRecord
  if (abortReason) {
    decided = await decide(ports, record, 'ABORTED', outcomes, options, abortReason)
  } else {
    if (request.protocol === '3pc') {
      const precommitted = await decide(ports, record, 'PRECOMMITTED', outcomes, options)
      if (precommitted.state === 'PRECOMMITTED') {
        options.faults?.afterWrite?.('after-precommit')
        decided = await decide(ports, precommitted, 'COMMITTED', outcomes, options)
      } else decided = precommitted
    } else decided = await decide(ports, record, 'COMMITTED', outcomes, options)
  }
  await settle(ports, decided, votes, options)
  return outcomeOf(decided, false)
}

async function newRecord(
  ports: TransactionPorts,
  request: TransactionRequest,
  options: CoordinatorOptions,
): Promise<TransactionRecord> {
  const participants: ParticipantEntry[] = await Promise.all(
    request.operations.map(async (operation) => {
      const key = storageKey(request.tenant, operation.key)
      const entry: ParticipantEntry = {
        key: operation.key,
        storageKey: key,
        region: '',
        kind: operation.kind,
      }
      // Checks too: a check must read the key where its writes now go, so it is moved first.
      if (ports.router.placementOf) {
        const placement = await ports.router.placementOf(key)
        entry.region = placement.region
        entry.ringVersion = placement.ringVersion
      } else entry.region = await ports.router.regionOf(key)
      return entry
    }),
  )
  const nowMs = ports.clock.nowMs()
  const deadlineMs = nowMs + options.transactionTimeoutMs
  const leaseUntilMs = deadlineMs + options.clockSkewMarginMs
  return {
    tenant: request.tenant,
    id: request.id,
    state: 'PENDING',
    protocol: request.protocol,
    participants,
    fingerprint: operationsFingerprint(request.operations),
    owner: options.owner,
    leaseUntilMs,
    deadlineMs,
    createdAtMs: nowMs,
    attentionDueAtMs: leaseUntilMs,
    ...(request.correlationId !== undefined && { correlationId: request.correlationId }),
  }
}

/** Creates the record; returns the existing record when the id was taken by another attempt. */
async function createRecord(
  log: TransactionLog,
  record: TransactionRecord,
  options: CoordinatorOptions,
): Promise<TransactionRecord | undefined> {
  let lastError: unknown
  for (let attempt = 0; attempt < options.recordWriteAttemptsMax; attempt++) {
    try {
      const result = await log.create(record)
      if (result.created) return undefined
      const { existing } = result
      // Our own earlier attempt whose answer was lost: the record is ours, carry on.
      const ours =
        existing.owner === record.owner &&
        existing.createdAtMs === record.createdAtMs &&
        existing.fingerprint === record.fingerprint
      if (ours && existing.state === 'PENDING') return undefined
      return existing
    } catch (error) {
      rethrowCrash(error)
      lastError = error
    }
  }
  throw lastError
}

async function replay(
  ports: TransactionPorts,
  existing: TransactionRecord,
  attempted: TransactionRecord,
  options: CoordinatorOptions,
): Promise<TransactionOutcome> {
  if (existing.fingerprint !== attempted.fingerprint)
    throw new TransactionIdReusedError(existing.id)
  if (isFinal(existing.state)) return outcomeOf(existing, true)
  // A retry of a transaction still in flight: finish it if its coordinator is gone.
  const finished = await finishTransaction(ports, existing, options)
  if (!isFinal(finished.record.state)) throw new TransactionInProgressError(finished.record)
  return outcomeOf(finished.record, true)
}

async function prepareAll(
  ports: TransactionPorts,
  request: TransactionRequest,
  record: TransactionRecord,
  options: CoordinatorOptions,
): Promise<(Vote | undefined)[]> {
  const votes: (Vote | undefined)[] = new Array(request.operations.length).fill(undefined)
  const crashes: unknown[] = []
  // Writes first, in parallel (they go to different regions); then the checks, so a check
  // validates its key after every write of the transaction is already staged.
  const prepareOne = async (index: number) => {
    const operation = request.operations[index]!
    const participant = record.participants[index]!
    if (operation.kind === 'check') return
    if (ports.clock.nowMs() > record.deadlineMs) return
    try {
      const prepareRequest = {
        region: participant.region,
        storageKey: participant.storageKey,
        transactionId: record.id,
        operation: operation.kind,
        nowMs: ports.clock.nowMs(),
        ...(participant.ringVersion !== undefined && { ringVersion: participant.ringVersion }),
        ...(operation.expectedVersion !== undefined && {
          expectedVersion: operation.expectedVersion,
        }),
        ...(operation.kind === 'put' && {
          value: operation.value,
          contentType: operation.contentType,
        }),
      }
      votes[index] = await ports.participant.prepare(prepareRequest)
    } catch (error) {
      rethrowCrash(error)
      votes[index] = { vote: 'no', reason: 'unavailable', currentVersion: 0 }
      return
    }
    try {
      options.faults?.afterWrite?.(`after-prepare-${index}`)
    } catch (error) {
      crashes.push(error)
    }
  }
  // Settle every prepare in flight before a crash takes effect: the requests were sent.
  await Promise.all(request.operations.map((_, index) => prepareOne(index)))
  if (crashes.length > 0) throw crashes[0]
  if (votes.some((vote) => vote?.vote === 'no')) return votes
  await Promise.all(
    request.operations.map(async (operation, index) => {
      if (operation.kind !== 'check') return
      const participant = record.participants[index]!
      try {
        votes[index] = await ports.participant.check({
          region: participant.region,
          storageKey: participant.storageKey,
          transactionId: record.id,
          expectedVersion: operation.expectedVersion,
        })
      } catch (error) {
        rethrowCrash(error)
        votes[index] = { vote: 'no', reason: 'unavailable', currentVersion: 0 }
      }
    }),
  )
  return votes
}

function outcomeOfVote(operation: TransactionOperation, vote: Vote | undefined): OperationOutcome {
  const outcome: OperationOutcome = {
    key: operation.key,
    kind: operation.kind,
    vote: vote?.vote ?? 'not-asked',
  }
  if (operation.expectedVersion !== undefined) outcome.expectedVersion = operation.expectedVersion
  if (vote?.vote === 'no') {
    outcome.reason = vote.reason
    outcome.currentVersion = vote.currentVersion
    if (vote.heldBy) outcome.heldBy = vote.heldBy
  }
  if (vote?.vote === 'yes') {
    outcome.currentVersion = vote.baseVersion
    outcome.version = operation.kind === 'check' ? vote.baseVersion : vote.baseVersion + 1
  }
  return outcome
}

function abortReasonOf(
  votes: readonly (Vote | undefined)[],
  deadlinePassed: boolean,
): AbortReason | undefined {
  if (votes.some((vote) => vote?.vote === 'no' && vote.reason !== 'unavailable')) return 'vote-no'
  if (votes.some((vote) => vote?.vote === 'no')) return 'participant-unavailable'
  if (votes.some((vote) => vote === undefined) || deadlinePassed) return 'deadline-passed'
  return undefined
}

/**
 * One conditional write of the record into `to`. When its answer is lost the record is read
 * back (bounded) to learn whether it landed; when another party decided first (recovery
 * aborted a coordinator whose lease ran out) that decision is returned and followed.
 */
async function decide(
  ports: TransactionPorts,
  record: TransactionRecord,
  to: TransactionState,
  outcomes: OperationOutcome[],
  options: CoordinatorOptions,
  abortReason?: AbortReason,
): Promise<TransactionRecord> {
  assertTransition(record.state, to, record.protocol)
  const nowMs = ports.clock.nowMs()
  const request: TransitionRequest = {
    tenant: record.tenant,
    id: record.id,
    from: record.state,
    to,
  }
  request.outcomes = to === 'ABORTED' ? outcomes : outcomes.map(clearVoteDetail)
  if (isFinal(to)) {
    request.decidedAtMs = nowMs
    request.attentionDueAtMs = nowMs + options.lateWriteGraceMs
    request.expiresAt = expiresAtFor(nowMs)
    if (abortReason) request.abortReason = abortReason
  }
  let lastError: unknown
  for (let attempt = 0; attempt < options.recordWriteAttemptsMax; attempt++) {
    try {
      const result = await ports.log.transition(request)
      const current = result.applied ? result.record : result.current
      if (!current) throw new Error(`transaction record ${record.id} vanished while in flight`)
      if (result.applied)
        options.faults?.afterWrite?.(
          to === 'ABORTED'
            ? 'after-abort'
            : to === 'COMMITTED'
              ? 'after-commit'
              : 'after-precommit',
        )
      // Reached by us (maybe on an earlier attempt whose answer was lost) or decided by someone else.
      if (current.state === to || isFinal(current.state)) return current
      lastError = new Error(`record ${record.id} is ${current.state}, expected ${record.state}`)
    } catch (error) {
      rethrowCrash(error)
      lastError = error
    }
  }
  throw new TransactionOutcomeUnknownError(record.id, { cause: lastError })
}

function clearVoteDetail(outcome: OperationOutcome): OperationOutcome {
  const { reason: _reason, heldBy: _heldBy, ...rest } = outcome
  return rest
}

/** Applies or discards the intents; failures are left to readers and the sweeper. */
async function settle(
  ports: TransactionPorts,
  decided: TransactionRecord,
  votes: readonly (Vote | undefined)[],
  options: CoordinatorOptions,
): Promise<void> {
  const crashes: unknown[] = []
  await Promise.all(
    decided.participants.map(async (participant, index) => {
      if (participant.kind === 'check') return
      const committed = decided.state === 'COMMITTED'
      // A key that voted NO never staged our intent; every other one may have.
      if (!committed && votes[index]?.vote === 'no' && votes[index]?.reason !== 'unavailable')
        return
      try {
        if (committed) {
          await ports.participant.apply({
            region: participant.region,
            storageKey: participant.storageKey,
            transactionId: decided.id,
            operation: participant.kind,
            nowMs: ports.clock.nowMs(),
          })
        } else {
          await ports.participant.discard(participant.region, participant.storageKey, decided.id)
        }
      } catch (error) {
        rethrowCrash(error)
        return
      }
      try {
        options.faults?.afterWrite?.(committed ? `after-apply-${index}` : `after-discard-${index}`)
      } catch (error) {
        crashes.push(error)
      }
    }),
  )
  if (crashes.length > 0) throw crashes[0]
}
