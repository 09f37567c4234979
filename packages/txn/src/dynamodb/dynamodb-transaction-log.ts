// The TransactionLog on the coordination table. One item per transaction:
//   pk = `txn#${tenant}#${id}`, sk = 'record'; participants and outcomes as JSON strings;
//   gsi1pk = 'txn' and gsi1sk = `${attentionDueAtMs, zero-padded}#${tenant}#${id}` while the
//   record needs attention (the sparse `attention` index), removed when it no longer does;
//   expiresAt (TTL, epoch seconds) set with the decision, ≥ 24 h after it.
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import type {
  AttentionQuery,
  CreateResult,
  TransactionLog,
  TransitionRequest,
  TransitionResult,
} from '../ports'
import type { TransactionRecord } from '../record'
import type { Protocol, TransactionState } from '../transaction-state'

export const attentionPartition = 'txn'
const recordSortKey = 'record'
const attentionPageSizeMax = 100
const attentionPagesMax = 10

function recordKey(tenant: string, id: string): Record<string, AttributeValue> {
  return { pk: { S: `txn#${tenant}#${id}` }, sk: { S: recordSortKey } }
}

function attentionSortKey(dueAtMs: number, tenant: string, id: string): string {
  return `${String(dueAtMs).padStart(15, '0')}#${tenant}#${id}`
}

const number = (value: number): AttributeValue => ({ N: String(value) })

function toItem(record: TransactionRecord): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    ...recordKey(record.tenant, record.id),
    tenant: { S: record.tenant },
    transactionId: { S: record.id },
    state: { S: record.state },
    protocol: { S: record.protocol },
    participants: { S: JSON.stringify(record.participants) },
    fingerprint: { S: record.fingerprint },
    owner: { S: record.owner },
    leaseUntilMs: number(record.leaseUntilMs),
    deadlineMs: number(record.deadlineMs),
    createdAtMs: number(record.createdAtMs),
  }
  if (record.decidedAtMs !== undefined) item.decidedAtMs = number(record.decidedAtMs)
  if (record.abortReason !== undefined) item.abortReason = { S: record.abortReason }
  if (record.outcomes !== undefined) item.outcomes = { S: JSON.stringify(record.outcomes) }
  if (record.expiresAt !== undefined) item.expiresAt = number(record.expiresAt)
  if (record.correlationId !== undefined) item.correlationId = { S: record.correlationId }
  if (record.attentionDueAtMs !== undefined) {
    item.attentionDueAtMs = number(record.attentionDueAtMs)
    item.gsi1pk = { S: attentionPartition }
    item.gsi1sk = { S: attentionSortKey(record.attentionDueAtMs, record.tenant, record.id) }
  }
  return item
}

function fromItem(item: Record<string, AttributeValue>): TransactionRecord {
  const record: TransactionRecord = {
    tenant: item.tenant?.S ?? '',
    id: item.transactionId?.S ?? '',
    state: (item.state?.S ?? 'PENDING') as TransactionState,
    protocol: (item.protocol?.S ?? '2pc') as Protocol,
    participants: JSON.parse(item.participants?.S ?? '[]'),
    fingerprint: item.fingerprint?.S ?? '',
    owner: item.owner?.S ?? '',
    leaseUntilMs: Number(item.leaseUntilMs?.N ?? 0),
    deadlineMs: Number(item.deadlineMs?.N ?? 0),
    createdAtMs: Number(item.createdAtMs?.N ?? 0),
  }
  if (item.decidedAtMs?.N) record.decidedAtMs = Number(item.decidedAtMs.N)
  if (item.abortReason?.S)
    record.abortReason = item.abortReason.S as TransactionRecord['abortReason']
  if (item.outcomes?.S) record.outcomes = JSON.parse(item.outcomes.S)
  if (item.expiresAt?.N) record.expiresAt = Number(item.expiresAt.N)
  if (item.correlationId?.S) record.correlationId = item.correlationId.S
  if (item.attentionDueAtMs?.N && item.gsi1pk?.S)
    record.attentionDueAtMs = Number(item.attentionDueAtMs.N)
  return record
}

export interface DynamoDbTransactionLogOptions {
  client: DynamoDBClient
  /** The coordination table (Resource.Coordination.name). */
  tableName: string
}

export class DynamoDbTransactionLog implements TransactionLog {
  private readonly client: DynamoDBClient
  private readonly tableName: string

  constructor(options: DynamoDbTransactionLogOptions) {
    this.client = options.client
    this.tableName = options.tableName
  }

  async create(record: TransactionRecord): Promise<CreateResult> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toItem(record),
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      return { created: true }
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && error.Item) {
        return { created: false, existing: fromItem(error.Item) }
      }
      throw error
    }
  }

  async transition(request: TransitionRequest): Promise<TransitionResult> {
    const names: Record<string, string> = { '#state': 'state' }
    const values: Record<string, AttributeValue> = {
      ':from': { S: request.from },
      ':to': { S: request.to },
    }
    const sets = ['#state = :to']
    const set = (attribute: string, value: AttributeValue) => {
      names[`#${attribute}`] = attribute
      values[`:${attribute}`] = value
      sets.push(`#${attribute} = :${attribute}`)
    }
    if (request.decidedAtMs !== undefined) set('decidedAtMs', number(request.decidedAtMs))
    if (request.abortReason !== undefined) set('abortReason', { S: request.abortReason })
    if (request.outcomes !== undefined) set('outcomes', { S: JSON.stringify(request.outcomes) })
    if (request.expiresAt !== undefined) set('expiresAt', number(request.expiresAt))
    if (request.attentionDueAtMs !== undefined) {
      set('attentionDueAtMs', number(request.attentionDueAtMs))
      set('gsi1pk', { S: attentionPartition })
      set('gsi1sk', { S: attentionSortKey(request.attentionDueAtMs, request.tenant, request.id) })
    }
    const inState = '#state = :from'
    const leaseExpired = '#leaseUntilMs < :leaseExpiredAtMs'
    let condition = inState
    if (request.leaseExpiredAtMs !== undefined) {
      names['#leaseUntilMs'] = 'leaseUntilMs'
      values[':leaseExpiredAtMs'] = number(request.leaseExpiredAtMs)
      condition = `${inState} AND ${leaseExpired}`
    }
    try {
      const result = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: recordKey(request.tenant, request.id),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_exists(pk) AND ${condition}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      return { applied: true, record: fromItem(result.Attributes ?? {}) }
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        return { applied: false, current: error.Item ? fromItem(error.Item) : undefined }
      }
      throw error
    }
  }

  async read(tenant: string, id: string): Promise<TransactionRecord | undefined> {
    const result = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: recordKey(tenant, id),
        ConsistentRead: true,
      }),
    )
    return result.Item ? fromItem(result.Item) : undefined
  }

  async listAttention(query: AttentionQuery): Promise<TransactionRecord[]> {
    const values: Record<string, AttributeValue> = { ':partition': { S: attentionPartition } }
    let keyCondition = 'gsi1pk = :partition'
    if (query.dueBeforeMs !== undefined) {
      values[':due'] = { S: String(query.dueBeforeMs).padStart(15, '0') }
      keyCondition += ' AND gsi1sk < :due'
    }
    let filter: string | undefined
    if (query.tenant !== undefined) {
      values[':tenant'] = { S: query.tenant }
      filter = '#tenant = :tenant'
    }
    const records: TransactionRecord[] = []
    let startKey: Record<string, AttributeValue> | undefined
    // Bounded pages: a tenant filter may drop most of a page.
    for (let page = 0; page < attentionPagesMax && records.length < query.limit; page++) {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'attention',
          KeyConditionExpression: keyCondition,
          ExpressionAttributeValues: values,
          ...(filter && {
            FilterExpression: filter,
            ExpressionAttributeNames: { '#tenant': 'tenant' },
          }),
          // Limit counts items before the filter: with a tenant filter, read whole pages, or
          // a busy index (other tenants' records due first) would end the bounded walk after
          // attentionPagesMax × limit items without reaching this tenant's.
          Limit: filter ? attentionPageSizeMax : Math.min(attentionPageSizeMax, query.limit),
          ...(startKey && { ExclusiveStartKey: startKey }),
        }),
      )
      for (const item of result.Items ?? []) records.push(fromItem(item))
      startKey = result.LastEvaluatedKey
      if (!startKey) break
    }
    return records.slice(0, query.limit)
  }

  async clearAttention(tenant: string, id: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: recordKey(tenant, id),
          UpdateExpression: 'REMOVE gsi1pk, gsi1sk, attentionDueAtMs',
          ConditionExpression: '#state IN (:committed, :aborted)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':committed': { S: 'COMMITTED' },
            ':aborted': { S: 'ABORTED' },
          },
        }),
      )
      return true
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false
      throw error
    }
  }
}
