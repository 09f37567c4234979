// The DynamoDB implementation of a regional store: one table per region (key `pk`), items in
// the layout of item-format.ts. Every write is one conditional UpdateItem whose condition
// is built from the named parts below; when it fails, DynamoDB returns the item as it was
// (ReturnValuesOnConditionCheckFailure ALL_OLD) and the adapter names the part that failed
// in a typed error, without a second read. Reads are strongly consistent GetItems.
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import {
  KeyInTransactionError,
  KeyNotFoundError,
  StaleFenceError,
  StoreError,
  VersionMismatchError,
} from './errors'
import { type Intent, itemAttributes } from './item-format'
import type {
  PutValue,
  RegionalStore,
  StoredItem,
  WriteOptions,
  WriteResult,
} from './regional-store'

const names = {
  '#value': itemAttributes.value,
  '#contentType': itemAttributes.contentType,
  '#version': itemAttributes.version,
  '#deleted': itemAttributes.deleted,
  '#fence': itemAttributes.fence,
  '#updatedAtMs': itemAttributes.updatedAtMs,
  '#intent': itemAttributes.intent,
} as const

// Condition parts. A key is live when it has a version and is not a tombstone.
const noIntent = 'attribute_not_exists(#intent)'
const fenceNotStale = '(attribute_not_exists(#fence) OR #fence <= :fence)'
const live = '(attribute_exists(#version) AND NOT #deleted = :true)'
const absent = '(attribute_not_exists(#version) OR #deleted = :true)'
const versionMatches = `(#version = :expectedVersion AND ${live})`
const versionBelowAssigned = '(attribute_not_exists(#version) OR #version < :assignedVersion)'

// Update parts.
const nextVersion = '#version = if_not_exists(#version, :zero) + :one'
const assignVersion = '#version = :assignedVersion'

type Operation = 'put' | 'delete'

export interface DynamoRegionalStoreOptions {
  client: DynamoDBClient
  tableName: string
  /** Wall clock for `updatedAtMs` (informational only; nothing depends on it). */
  nowMs?: () => number
}

export class DynamoRegionalStore implements RegionalStore {
  readonly tableName: string
  private readonly client: DynamoDBClient
  private readonly nowMs: () => number

  constructor(options: DynamoRegionalStoreOptions) {
    this.client = options.client
    this.tableName = options.tableName
    this.nowMs = options.nowMs ?? Date.now
  }

  async get(storageKey: string): Promise<StoredItem | undefined> {
    const output = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [itemAttributes.key]: { S: storageKey } },
        ConsistentRead: true,
      }),
    )
    return output.Item ? itemFromAttributes(output.Item) : undefined
  }

  put(storageKey: string, value: PutValue, options: WriteOptions = {}): Promise<WriteResult> {
    const set = [
      '#value = :value',
      '#contentType = :contentType',
      options.assignedVersion === undefined ? nextVersion : assignVersion,
      '#updatedAtMs = :now',
    ]
    if (options.fence !== undefined) set.push('#fence = :fence')
    const update = `SET ${set.join(', ')} REMOVE #deleted`
    return this.write('put', storageKey, update, options, {
      ':value': { B: value.value },
      ':contentType': { S: value.contentType },
    })
  }

  delete(storageKey: string, options: WriteOptions = {}): Promise<WriteResult> {
    if (options.expectedVersion === 'absent') {
      throw new RangeError('a delete cannot expect the key to be absent')
    }
    const set = [
      '#deleted = :true',
      options.assignedVersion === undefined ? nextVersion : assignVersion,
      '#updatedAtMs = :now',
    ]
    if (options.fence !== undefined) set.push('#fence = :fence')
    const update = `SET ${set.join(', ')} REMOVE #value, #contentType`
    return this.write('delete', storageKey, update, options, {})
  }

  private async write(
    operation: Operation,
    storageKey: string,
    update: string,
    options: WriteOptions,
    operationValues: Record<string, AttributeValue>,
  ): Promise<WriteResult> {
    const conditions = [noIntent]
    const values: Record<string, AttributeValue> = {
      ...operationValues,
      ':true': { BOOL: true },
      ':now': { N: String(this.nowMs()) },
    }
    if (options.fence !== undefined) {
      conditions.push(fenceNotStale)
      values[':fence'] = { N: String(options.fence) }
    }
    if (options.assignedVersion !== undefined) {
      conditions.push(versionBelowAssigned)
      values[':assignedVersion'] = { N: String(options.assignedVersion) }
    } else {
      values[':zero'] = { N: '0' }
      values[':one'] = { N: '1' }
    }
    if (options.expectedVersion === 'absent') conditions.push(absent)
    else if (options.expectedVersion !== undefined) {
      conditions.push(versionMatches)
      values[':expectedVersion'] = { N: String(options.expectedVersion) }
    } else if (operation === 'delete') conditions.push(live)
    const expression = [update, ...conditions].join(' ')
    try {
      const output = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [itemAttributes.key]: { S: storageKey } },
          UpdateExpression: update,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: namesUsedBy(expression),
          ExpressionAttributeValues: usedOnly(values, expression),
          // Only the old version and tombstone flag are needed, but DynamoDB returns every
          // attribute the update touched, the old value included; it costs no capacity.
          ReturnValues: 'UPDATED_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      const old = output.Attributes ?? {}
      const oldVersion = numberOf(old[itemAttributes.version])
      const wasLive = oldVersion !== undefined && old[itemAttributes.deleted]?.BOOL !== true
      return {
        version: options.assignedVersion ?? (oldVersion ?? 0) + 1,
        created: operation === 'put' && !wasLive,
      }
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw conditionFailure(operation, storageKey, options, error)
      }
      throw error
    }
  }
}

/** Names the condition part that failed, from the item as it was (ALL_OLD). */
function conditionFailure(
  operation: Operation,
  storageKey: string,
  options: WriteOptions,
  error: ConditionalCheckFailedException,
): StoreError {
  const current = error.Item ? itemFromAttributes(error.Item) : undefined
  const cause = { cause: error }
  const isLive = current !== undefined && !current.deleted && current.version > 0
  if (current?.intent) {
    return new KeyInTransactionError(storageKey, current.intent.transactionId, cause)
  }
  if (
    options.fence !== undefined &&
    current?.fence !== undefined &&
    options.fence < current.fence
  ) {
    return new StaleFenceError(storageKey, options.fence, current.fence, cause)
  }
  if (
    options.assignedVersion !== undefined &&
    current &&
    current.version >= options.assignedVersion
  ) {
    return new VersionMismatchError(storageKey, options.assignedVersion - 1, current.version, cause)
  }
  if (options.expectedVersion !== undefined) {
    return new VersionMismatchError(storageKey, options.expectedVersion, current?.version, cause)
  }
  if (operation === 'delete' && !isLive)
    return new KeyNotFoundError(storageKey, current?.version, cause)
  // Every part of the condition is accounted for above: reaching here is a bug.
  return new StoreError(
    `condition failed on ${JSON.stringify(storageKey)} for no known reason`,
    cause,
  )
}

function namesUsedBy(expression: string): Record<string, string> {
  const used: Record<string, string> = {}
  for (const [placeholder, name] of Object.entries(names)) {
    if (expression.includes(placeholder)) used[placeholder] = name
  }
  return used
}

// DynamoDB refuses placeholders that the expressions don't use.
function usedOnly(
  values: Record<string, AttributeValue>,
  expression: string,
): Record<string, AttributeValue> {
  return Object.fromEntries(
    Object.entries(values).filter(([placeholder]) =>
      new RegExp(`${placeholder}\\b`).test(expression),
    ),
  )
}

function numberOf(attribute: AttributeValue | undefined): number | undefined {
  return attribute?.N === undefined ? undefined : Number(attribute.N)
}

export function itemFromAttributes(item: Record<string, AttributeValue>): StoredItem {
  const stored: StoredItem = {
    storageKey: item[itemAttributes.key]?.S ?? '',
    version: numberOf(item[itemAttributes.version]) ?? 0,
    deleted: item[itemAttributes.deleted]?.BOOL === true,
  }
  const value = item[itemAttributes.value]?.B
  if (value !== undefined) stored.value = value
  const contentType = item[itemAttributes.contentType]?.S
  if (contentType !== undefined) stored.contentType = contentType
  const fence = numberOf(item[itemAttributes.fence])
  if (fence !== undefined) stored.fence = fence
  const updatedAtMs = numberOf(item[itemAttributes.updatedAtMs])
  if (updatedAtMs !== undefined) stored.updatedAtMs = updatedAtMs
  const intent = item[itemAttributes.intent]?.M
  if (intent !== undefined) stored.intent = intentFromAttributes(intent)
  return stored
}

function intentFromAttributes(map: Record<string, AttributeValue>): Intent {
  const intent: Intent = {
    transactionId: map.transactionId?.S ?? '',
    operation: map.operation?.S === 'delete' ? 'delete' : 'put',
    baseVersion: numberOf(map.baseVersion) ?? 0,
    preparedAtMs: numberOf(map.preparedAtMs) ?? 0,
  }
  if (map.value?.B !== undefined) intent.value = map.value.B
  if (map.contentType?.S !== undefined) intent.contentType = map.contentType.S
  return intent
}
