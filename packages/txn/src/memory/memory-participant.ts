// An in-memory Participant for the deterministic simulation: store items per region, with
// the same staging rules (participant-rules.ts) as the DynamoDB adapter.
import { appliedItem, judgeStaging } from '../participant-rules'
import type {
  ApplyRequest,
  CheckRequest,
  Participant,
  ParticipantItem,
  PrepareRequest,
  Vote,
} from '../ports'

export class MemoryParticipant implements Participant {
  readonly regions = new Map<string, Map<string, ParticipantItem>>()

  private table(region: string): Map<string, ParticipantItem> {
    let table = this.regions.get(region)
    if (!table) {
      table = new Map()
      this.regions.set(region, table)
    }
    return table
  }

  /** Seeds or overwrites a committed value (a plain KV write, for tests). */
  seed(region: string, storageKey: string, item: ParticipantItem): void {
    this.table(region).set(storageKey, structuredClone(item))
  }

  async prepare(request: PrepareRequest): Promise<Vote> {
    const table = this.table(request.region)
    const item = table.get(request.storageKey)
    const judgement = judgeStaging(
      item,
      request.transactionId,
      request.operation,
      request.expectedVersion,
    )
    if (!judgement.accept) return judgement.vote
    if (!judgement.alreadyStaged) {
      const next: ParticipantItem = item ? structuredClone(item) : { version: 0, deleted: false }
      next.intent = {
        transactionId: request.transactionId,
        operation: request.operation,
        baseVersion: judgement.baseVersion,
        preparedAtMs: request.nowMs,
        ...(request.value !== undefined && { value: request.value.slice() }),
        ...(request.contentType !== undefined && { contentType: request.contentType }),
      }
      table.set(request.storageKey, next)
    }
    return { vote: 'yes', baseVersion: judgement.baseVersion }
  }

  async check(request: CheckRequest): Promise<Vote> {
    const item = this.table(request.region).get(request.storageKey)
    const judgement = judgeStaging(item, request.transactionId, 'check', request.expectedVersion)
    return judgement.accept ? { vote: 'yes', baseVersion: judgement.baseVersion } : judgement.vote
  }

  async apply(request: ApplyRequest): Promise<'applied' | 'not-held'> {
    const table = this.table(request.region)
    const item = table.get(request.storageKey)
    const intent = item?.intent
    if (intent?.transactionId !== request.transactionId || intent.operation !== request.operation) {
      return 'not-held'
    }
    table.set(request.storageKey, appliedItem(item!))
    return 'applied'
  }

  async discard(
    region: string,
    storageKey: string,
    transactionId: string,
  ): Promise<'discarded' | 'not-held'> {
    const item = this.table(region).get(storageKey)
    if (item?.intent?.transactionId !== transactionId) return 'not-held'
    delete item.intent
    return 'discarded'
  }

  async read(region: string, storageKey: string): Promise<ParticipantItem | undefined> {
    const item = this.table(region).get(storageKey)
    return item && structuredClone(item)
  }
}
