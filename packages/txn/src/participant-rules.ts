// The pure rules every Participant implementation follows, so the DynamoDB adapter and the
// in-memory double decide votes identically: given a key's current item and a request,
// either the key may be staged on top of its current version, or the vote is NO and why.
import type { ExpectedVersion } from './operations'
import type { ParticipantItem, Vote } from './ports'

export type StagingJudgement =
  /** Stage (or, for a check, accept) on top of this version. */
  | { accept: true; baseVersion: number; alreadyStaged: boolean }
  | { accept: false; vote: Extract<Vote, { vote: 'no' }> }

export function isLive(item: ParticipantItem | undefined): boolean {
  return item !== undefined && !item.deleted && item.version > 0
}

/** Whether `item` satisfies a transaction's expectation for it. Pure. */
export function judgeStaging(
  item: ParticipantItem | undefined,
  transactionId: string,
  kind: 'put' | 'delete' | 'check',
  expectedVersion: ExpectedVersion | undefined,
): StagingJudgement {
  const currentVersion = item?.version ?? 0
  if (item?.intent) {
    if (item.intent.transactionId === transactionId && kind !== 'check') {
      // A retried prepare whose first answer was lost: the intent is already ours.
      return { accept: true, baseVersion: item.intent.baseVersion, alreadyStaged: true }
    }
    return {
      accept: false,
      vote: {
        vote: 'no',
        reason: 'intent-held',
        currentVersion,
        heldBy: item.intent.transactionId,
      },
    }
  }
  const live = isLive(item)
  const matches =
    expectedVersion === undefined ||
    (expectedVersion === 'absent' ? !live : live && currentVersion === expectedVersion)
  if (!matches)
    return { accept: false, vote: { vote: 'no', reason: 'version-mismatch', currentVersion } }
  if (kind === 'delete' && !live) {
    return { accept: false, vote: { vote: 'no', reason: 'not-found', currentVersion } }
  }
  return { accept: true, baseVersion: currentVersion, alreadyStaged: false }
}

/** The item a committed intent leaves behind. Pure. */
export function appliedItem(item: ParticipantItem): ParticipantItem {
  const intent = item.intent
  if (!intent) throw new Error('appliedItem needs an item with an intent')
  const version = intent.baseVersion + 1
  if (intent.operation === 'delete') return { version, deleted: true }
  const applied: ParticipantItem = { version, deleted: false }
  if (intent.value !== undefined) applied.value = intent.value
  if (intent.contentType !== undefined) applied.contentType = intent.contentType
  return applied
}

/** Bounded retries of a prepare whose expected base version moved under it. */
export const prepareAttemptsMax = 3
