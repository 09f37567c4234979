// An in-memory TransactionLog for the deterministic simulation. Same contract as the
// DynamoDB adapter (checked by the shared contract suite): each method is one atomic step.
import type {
  AttentionQuery,
  CreateResult,
  TransactionLog,
  TransitionRequest,
  TransitionResult,
} from '../ports'
import type { TransactionRecord } from '../record'
import { isFinal } from '../transaction-state'

const copy = (record: TransactionRecord): TransactionRecord => structuredClone(record)

export class MemoryTransactionLog implements TransactionLog {
  readonly records = new Map<string, TransactionRecord>()

  async create(record: TransactionRecord): Promise<CreateResult> {
    const key = `${record.tenant}#${record.id}`
    const existing = this.records.get(key)
    if (existing) return { created: false, existing: copy(existing) }
    this.records.set(key, copy(record))
    return { created: true }
  }

  async transition(request: TransitionRequest): Promise<TransitionResult> {
    const current = this.records.get(`${request.tenant}#${request.id}`)
    const leaseExpired =
      request.leaseExpiredAtMs === undefined ||
      (current !== undefined && current.leaseUntilMs < request.leaseExpiredAtMs)
    if (!current || current.state !== request.from || !leaseExpired) {
      return { applied: false, current: current && copy(current) }
    }
    current.state = request.to
    if (request.decidedAtMs !== undefined) current.decidedAtMs = request.decidedAtMs
    if (request.abortReason !== undefined) current.abortReason = request.abortReason
    if (request.outcomes !== undefined) current.outcomes = structuredClone(request.outcomes)
    if (request.attentionDueAtMs !== undefined) current.attentionDueAtMs = request.attentionDueAtMs
    if (request.expiresAt !== undefined) current.expiresAt = request.expiresAt
    return { applied: true, record: copy(current) }
  }

  async read(tenant: string, id: string): Promise<TransactionRecord | undefined> {
    const record = this.records.get(`${tenant}#${id}`)
    return record && copy(record)
  }

  async listAttention(query: AttentionQuery): Promise<TransactionRecord[]> {
    return [...this.records.values()]
      .filter((record) => record.attentionDueAtMs !== undefined)
      .filter(
        (record) => query.dueBeforeMs === undefined || record.attentionDueAtMs! < query.dueBeforeMs,
      )
      .filter((record) => query.tenant === undefined || record.tenant === query.tenant)
      .sort((a, b) => a.attentionDueAtMs! - b.attentionDueAtMs! || a.id.localeCompare(b.id))
      .slice(0, query.limit)
      .map(copy)
  }

  async clearAttention(tenant: string, id: string): Promise<boolean> {
    const record = this.records.get(`${tenant}#${id}`)
    if (!record || !isFinal(record.state)) return false
    delete record.attentionDueAtMs
    return true
  }
}
