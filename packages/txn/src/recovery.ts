// Recovery: anyone can finish a transaction from its record, because the record holds the
// decision (or, once the coordinator's lease has run out, lets recovery make it).
//
// Timeline of recovery for a record found by a reader (one key) or the sweeper (all keys):
//
//   PENDING, lease live        -> nothing to do: the coordinator may still decide
//   PENDING, lease expired     -> one conditional write PENDING -> ABORTED (only if still
//                                 PENDING and the lease still expired: a coordinator that
//                                 decided first wins and recovery follows its decision)
//   PRECOMMITTED, lease expired-> PRECOMMITTED -> COMMITTED (every key voted yes)
//   COMMITTED                  -> apply each intent still naming the transaction
//   ABORTED                    -> discard each intent still naming the transaction
//   final, past its due time   -> the sweeper removes the record from the attention index
//
// Keys are read before they are written, so a visit to a transaction whose coordinator
// finished costs reads only, plus the one write that takes it out of the index.
import { type Intent, storageKey as toStorageKey } from '@meridian/store'
import type { CoordinatorOptions, TransactionPorts } from './coordinator'
import type { ParticipantEntry, TransactionRecord } from './record'
import { expiresAtFor } from './record'
import { isFinal } from './transaction-state'

type RecoveryOptions = Pick<CoordinatorOptions, 'lateWriteGraceMs'>

export interface FinishResult {
  record: TransactionRecord
  /** Whether the record left the attention index on this visit. */
  cleared: boolean
}

/** Decides the record if its coordinator's lease ran out; returns the record as it now stands. */
export async function decideIfAbandoned(
  ports: TransactionPorts,
  record: TransactionRecord,
  options: RecoveryOptions,
): Promise<TransactionRecord> {
  let current = record
  // Bounded: each failed transition returns a record that moved on, and states only move forward.
  for (let attempt = 0; attempt < 3 && !isFinal(current.state); attempt++) {
    const nowMs = ports.clock.nowMs()
    if (nowMs <= current.leaseUntilMs) return current
    const to = current.state === 'PRECOMMITTED' ? 'COMMITTED' : 'ABORTED'
    const result = await ports.log.transition({
      tenant: current.tenant,
      id: current.id,
      from: current.state,
      to,
      leaseExpiredAtMs: nowMs,
      decidedAtMs: nowMs,
      attentionDueAtMs: nowMs + options.lateWriteGraceMs,
      expiresAt: expiresAtFor(nowMs),
      ...(to === 'ABORTED' && { abortReason: 'coordinator-lease-expired' as const }),
      ...(current.outcomes && { outcomes: current.outcomes }),
    })
    const next = result.applied ? result.record : result.current
    if (!next) throw new Error(`transaction record ${current.id} vanished`)
    current = next
  }
  return current
}

/** Applies or discards this transaction's intent on one key, if the key still holds it. */
async function settleKey(
  ports: TransactionPorts,
  record: TransactionRecord,
  participant: Pick<ParticipantEntry, 'region' | 'storageKey'>,
): Promise<void> {
  const item = await ports.participant.read(participant.region, participant.storageKey)
  if (item?.intent?.transactionId !== record.id) return
  if (record.state === 'COMMITTED') {
    await ports.participant.apply({
      region: participant.region,
      storageKey: participant.storageKey,
      transactionId: record.id,
      operation: item.intent.operation,
      nowMs: ports.clock.nowMs(),
    })
  } else {
    await ports.participant.discard(participant.region, participant.storageKey, record.id)
  }
}

/** The sweeper's visit: decide if abandoned, settle every key, and leave the index when due. */
export async function finishTransaction(
  ports: TransactionPorts,
  record: TransactionRecord,
  options: RecoveryOptions,
): Promise<FinishResult> {
  const current = await decideIfAbandoned(ports, record, options)
  if (!isFinal(current.state)) return { record: current, cleared: false }
  await Promise.all(
    current.participants
      .filter((participant) => participant.kind !== 'check')
      .map((participant) => settleKey(ports, current, participant)),
  )
  const due = current.attentionDueAtMs
  if (due === undefined || ports.clock.nowMs() < due) return { record: current, cleared: false }
  const cleared = await ports.log.clearAttention(current.tenant, current.id)
  return { record: current, cleared }
}

export type IntentResolution = 'committed' | 'aborted' | 'pending'

export interface IntentEncounter {
  tenant: string
  region: string
  storageKey: string
  intent: Intent
}

/**
 * What a reader does when it meets an intent: look up the record, roll the key forward if
 * committed, back if aborted, abort the transaction if its coordinator's lease ran out, and
 * leave it alone if the coordinator may still decide ('pending': the committed value is
 * still the right answer for the read). A record that does not exist (it can't, unless it
 * expired long after its decision) is created ABORTED first, so no coordinator can commit
 * it afterwards.
 */
export async function resolveIntent(
  ports: TransactionPorts,
  encounter: IntentEncounter,
  options: RecoveryOptions,
): Promise<IntentResolution> {
  const { tenant, intent } = encounter
  let record = await ports.log.read(tenant, intent.transactionId)
  if (!record) record = await createAbortedRecord(ports, encounter, options)
  record = await decideIfAbandoned(ports, record, options)
  if (!isFinal(record.state)) return 'pending'
  await settleKey(ports, record, encounter)
  return record.state === 'COMMITTED' ? 'committed' : 'aborted'
}

async function createAbortedRecord(
  ports: TransactionPorts,
  encounter: IntentEncounter,
  options: RecoveryOptions,
): Promise<TransactionRecord> {
  const nowMs = ports.clock.nowMs()
  const prefix = `${toStorageKey(encounter.tenant, '')}`
  const key = encounter.storageKey.startsWith(prefix)
    ? encounter.storageKey.slice(prefix.length)
    : encounter.storageKey
  const tombstone: TransactionRecord = {
    tenant: encounter.tenant,
    id: encounter.intent.transactionId,
    state: 'ABORTED',
    protocol: '2pc',
    participants: [
      {
        key,
        storageKey: encounter.storageKey,
        region: encounter.region,
        kind: encounter.intent.operation,
      },
    ],
    fingerprint: '',
    owner: 'recovery',
    leaseUntilMs: nowMs,
    deadlineMs: nowMs,
    createdAtMs: nowMs,
    decidedAtMs: nowMs,
    abortReason: 'record-missing',
    attentionDueAtMs: nowMs + options.lateWriteGraceMs,
    expiresAt: expiresAtFor(nowMs),
  }
  const result = await ports.log.create(tombstone)
  return result.created ? tombstone : result.existing
}

export interface SweepResult {
  visited: number
  cleared: number
  inProgress: number
  failed: number
}

/** What the sweeper reports per record, for logs that name the work (record.correlationId). */
export interface SweepObserver {
  /** A record visited: its state after the visit, and whether it left the attention index. */
  visited?(record: TransactionRecord, cleared: boolean): void
  /** A record the visit could not finish; the next pass retries it. */
  failed?(error: unknown, record: TransactionRecord): void
}

/** One bounded pass of the sweeper over records due for attention (an index query, no scan). */
export async function sweep(
  ports: TransactionPorts,
  options: RecoveryOptions & { limit: number; tenant?: string },
  observer: SweepObserver = {},
): Promise<SweepResult> {
  const due = await ports.log.listAttention({
    dueBeforeMs: ports.clock.nowMs(),
    limit: options.limit,
    ...(options.tenant !== undefined && { tenant: options.tenant }),
  })
  const result: SweepResult = { visited: due.length, cleared: 0, inProgress: 0, failed: 0 }
  for (const record of due) {
    let finished: Awaited<ReturnType<typeof finishTransaction>>
    try {
      finished = await finishTransaction(ports, record, options)
    } catch (error) {
      result.failed++
      observer.failed?.(error, record)
      continue
    }
    if (finished.cleared) result.cleared++
    if (!isFinal(finished.record.state)) result.inProgress++
    observer.visited?.(finished.record, finished.cleared)
  }
  return result
}
