// The DynamoDB implementation of a regional store: one table per region (key `pk`), items in
// the layout of item-format.ts. Every write is one conditional UpdateItem whose condition
// is built from the named parts below; when it fails, DynamoDB returns the item as it was
// (ReturnValuesOnConditionCheckFailure ALL_OLD) and the adapter names the part that failed
// in a typed error, without a second read. Reads are strongly consistent GetItems.
import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  type CancellationReason,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  ScanCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import {
  ItemAbsentError,
  KeyInTransactionError,
  KeyMovedError,
  KeyNotFoundError,
  StaleFenceError,
  StaleRingError,
  StoreError,
  VersionMismatchError,
} from './errors'
import { gateVersionAttribute, type Intent, itemAttributes, ringGateKey } from './item-format'
import type {
  CopyOptions,
  PutValue,
  ReadOptions,
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
  '#movedTo': itemAttributes.movedTo,
  '#gate': gateVersionAttribute,
  '#placedAt': itemAttributes.placedAt,
} as const

// Condition parts. A key is live when it has a version and is not a tombstone.
const noIntent = 'attribute_not_exists(#intent)'
const notMoved = 'attribute_not_exists(#movedTo)'
const exists = 'attribute_exists(#version)'
const neverWritten = 'attribute_not_exists(#version)'
const writeAttemptsMax = 3
const gateOpen = '(attribute_not_exists(#gate) OR #gate <= :ringVersion)'
const placedBefore = '(attribute_not_exists(#placedAt) OR #placedAt < :ringVersion)'
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

  async get(storageKey: string, options: ReadOptions = {}): Promise<StoredItem | undefined> {
    const output = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [itemAttributes.key]: { S: storageKey } },
        ConsistentRead: true,
      }),
    )
    const item = output.Item ? itemFromAttributes(output.Item) : undefined
    // Absence, or a copy a migration froze here, tells a caller on an older ring nothing.
    if (!item || item.movedTo !== undefined) await this.checkGate(storageKey, options.ringVersion)
    return item
  }

  /** The table's gate version (0 when no migration ever raised it). */
  async gateVersion(): Promise<number> {
    const output = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [itemAttributes.key]: { S: ringGateKey } },
        ConsistentRead: true,
      }),
    )
    return numberOf(output.Item?.[gateVersionAttribute]) ?? 0
  }

  /** An answer that rests on the key's absence stands only if no newer ring gated the table. */
  private async checkGate(storageKey: string, ringVersion: number | undefined): Promise<void> {
    if (ringVersion === undefined) return
    const gate = await this.gateVersion()
    if (gate > ringVersion) throw new StaleRingError(storageKey, ringVersion, gate)
  }

  async raiseGate(ringVersion: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [itemAttributes.key]: { S: ringGateKey } },
          UpdateExpression: 'SET #gate = :ringVersion',
          ConditionExpression: 'attribute_not_exists(#gate) OR #gate < :ringVersion',
          ExpressionAttributeNames: { '#gate': gateVersionAttribute },
          ExpressionAttributeValues: { ':ringVersion': { N: String(ringVersion) } },
        }),
      )
    } catch (error) {
      // Already at this version or newer: nothing to do.
      if (!(error instanceof ConditionalCheckFailedException)) throw error
    }
  }

  async freeze(
    storageKey: string,
    region: string,
    ringVersion: number,
  ): Promise<StoredItem | undefined> {
    try {
      const output = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          ...freezeUpdate(storageKey, region, ringVersion),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      return output.Attributes ? itemFromAttributes(output.Attributes) : undefined
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error
      const current = error.Item ? itemFromAttributes(error.Item) : undefined
      if (current?.intent) {
        throw new KeyInTransactionError(storageKey, current.intent.transactionId, { cause: error })
      }
      if (current?.placedAt !== undefined && current.placedAt >= ringVersion) {
        throw new StaleRingError(storageKey, ringVersion, current.placedAt, { cause: error })
      }
      // No versioned copy here: an intent-free item without a version can't exist, so the key
      // was never written in this table and there is nothing to hand over.
      if (!current || current.version === 0) return undefined
      throw new StoreError(
        `${JSON.stringify(storageKey)} is frozen for ${current.movedTo}, not ${region}`,
        { cause: error },
      )
    }
  }

  async copyIn(item: StoredItem, ringVersion: number, options: CopyOptions = {}): Promise<boolean> {
    if (options.repair) return this.repair(item, ringVersion)
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          ...this.copyInUpdate(item, ringVersion),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      return true
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error
      const current = error.Item ? itemFromAttributes(error.Item) : undefined
      // Written here since the copy was made (same or newer version, not frozen): done.
      if (current && !current.movedTo && current.version >= item.version) return false
      throw new StoreError(
        `copy of ${JSON.stringify(item.storageKey)} at version ${item.version} refused`,
        { cause: error },
      )
    }
  }

  /**
   * A repair's copy: over an older plain copy only, never over a frozen one; where the table
   * has no copy, a create behind the gate (a repair by a handler on an older ring must not
   * put a copy where a migration already moved the key away). False when nothing was written.
   */
  private async repair(item: StoredItem, ringVersion: number): Promise<boolean> {
    const update = this.copyInUpdate(item, ringVersion)
    const over = `${noIntent} AND ${notMoved} AND ${exists} AND #version < :version`
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          ...update,
          ConditionExpression: over,
          ExpressionAttributeNames: namesUsedBy(`${update.UpdateExpression} ${over}`),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      return true
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error
      if (error.Item?.[itemAttributes.version] !== undefined || error.Item?.[itemAttributes.intent])
        return false
    }
    const create = `${noIntent} AND ${neverWritten}`
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { ConditionCheck: this.gateCheck(ringVersion) },
            {
              Update: {
                TableName: this.tableName,
                ...update,
                ConditionExpression: create,
                ExpressionAttributeNames: namesUsedBy(`${update.UpdateExpression} ${create}`),
              },
            },
          ],
        }),
      )
      return true
    } catch (error) {
      // A newer gate, or a copy that appeared meanwhile: a repair gives way to both.
      if (error instanceof TransactionCanceledException) return false
      throw error
    }
  }

  private copyInUpdate(item: StoredItem, ringVersion: number) {
    const set = ['#version = :version', '#updatedAtMs = :now', '#placedAt = :ringVersion']
    const remove = ['#movedTo']
    const values: Record<string, AttributeValue> = {
      ':ringVersion': { N: String(ringVersion) },
      ':version': { N: String(item.version) },
      ':now': { N: String(item.updatedAtMs ?? this.nowMs()) },
    }
    if (item.deleted) {
      set.push('#deleted = :true')
      values[':true'] = { BOOL: true }
      remove.push('#value', '#contentType')
    } else {
      if (item.value === undefined) throw new StoreError('copyIn needs a value or a tombstone')
      set.push('#value = :value', '#contentType = :contentType')
      values[':value'] = { B: item.value }
      values[':contentType'] = { S: item.contentType ?? 'application/octet-stream' }
      remove.push('#deleted')
    }
    if (item.fence !== undefined) {
      set.push('#fence = :fence')
      values[':fence'] = { N: String(item.fence) }
    }
    const update = `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`
    // Older here, or the same version still frozen from an earlier move away: take the copy.
    const condition = `${noIntent} AND (attribute_not_exists(#version) OR #version < :version OR (#version = :version AND attribute_exists(#movedTo)))`
    return {
      Key: { [itemAttributes.key]: { S: item.storageKey } },
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: namesUsedBy(`${update} ${condition}`),
      ExpressionAttributeValues: values,
    }
  }

  async drop(storageKey: string, version: number): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { [itemAttributes.key]: { S: storageKey } },
          ConditionExpression: 'attribute_exists(#movedTo) AND #version = :version',
          ExpressionAttributeNames: {
            '#movedTo': itemAttributes.movedTo,
            '#version': itemAttributes.version,
          },
          ExpressionAttributeValues: { ':version': { N: String(version) } },
        }),
      )
    } catch (error) {
      // Already dropped, or not frozen at that version: leave it.
      if (!(error instanceof ConditionalCheckFailedException)) throw error
    }
  }

  async strip(storageKey: string, version: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({ TableName: this.tableName, ...stripUpdate(storageKey, version) }),
      )
    } catch (error) {
      // Not frozen at that version (already stripped and moved back, or copied anew): leave it.
      if (!(error instanceof ConditionalCheckFailedException)) throw error
    }
  }

  async freezeAll(
    items: readonly StoredItem[],
    region: string,
    ringVersion: number,
  ): Promise<StoredItem[]> {
    const updates = items.map((item) =>
      freezeUpdate(item.storageKey, region, ringVersion, item.version),
    )
    const reasons = await this.transactOrReasons(updates)
    if (reasons === undefined) return []
    // The cancellation names each item's outcome in order: a failed condition (changed since
    // the Scan, frozen, an intent) or a conflict with a concurrent write. Without an
    // item-level reason (a throttled or otherwise cancelled transaction), all are refused.
    const refused = items.filter((_, index) => {
      const code = reasons[index]?.Code
      return code !== undefined && code !== 'None'
    })
    return refused.length > 0 ? refused : [...items]
  }

  async copyInAll(items: readonly StoredItem[], ringVersion: number): Promise<boolean> {
    return this.transact(items.map((item) => this.copyInUpdate(item, ringVersion)))
  }

  async stripAll(items: readonly StoredItem[]): Promise<boolean> {
    return this.transact(items.map((item) => stripUpdate(item.storageKey, item.version)))
  }

  /** Updates in one transaction; false when it was cancelled (a condition, a conflict). */
  private async transact(
    updates: Array<Omit<NonNullable<TransactWriteItem['Update']>, 'TableName'>>,
  ): Promise<boolean> {
    return (await this.transactOrReasons(updates)) === undefined
  }

  /** Updates in one transaction; when it was cancelled, why, item by item (in order). */
  private async transactOrReasons(
    updates: Array<Omit<NonNullable<TransactWriteItem['Update']>, 'TableName'>>,
  ): Promise<CancellationReason[] | undefined> {
    if (updates.length === 0) return undefined
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: updates.map((update) => ({
            Update: { TableName: this.tableName, ...update },
          })),
        }),
      )
      return undefined
    } catch (error) {
      if (error instanceof TransactionCanceledException) return error.CancellationReasons ?? []
      throw error
    }
  }

  async getMany(storageKeys: readonly string[]): Promise<Map<string, StoredItem>> {
    const found = new Map<string, StoredItem>()
    const unique = [...new Set(storageKeys)]
    // BatchGetItem takes up to 100 keys; what it leaves unprocessed (throttling, the 16 MB
    // answer limit) is asked again after a short backoff.
    for (let start = 0; start < unique.length; start += 100) {
      let keys: Record<string, AttributeValue>[] | undefined = unique
        .slice(start, start + 100)
        .map((key) => ({ [itemAttributes.key]: { S: key } }))
      for (let attempt = 0; keys && keys.length > 0; attempt++) {
        if (attempt > 0)
          await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** Math.min(attempt, 6)))
        const output: BatchGetItemCommandOutput = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } },
          }),
        )
        for (const item of output.Responses?.[this.tableName] ?? []) {
          const stored = itemFromAttributes(item)
          found.set(stored.storageKey, stored)
        }
        keys = output.UnprocessedKeys?.[this.tableName]?.Keys
      }
    }
    return found
  }

  async *scan(segment: number, totalSegments: number): AsyncIterable<StoredItem[]> {
    let startKey: Record<string, AttributeValue> | undefined
    do {
      const output = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          Segment: segment,
          TotalSegments: totalSegments,
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      )
      startKey = output.LastEvaluatedKey
      const items = (output.Items ?? [])
        .filter((item) => item[itemAttributes.key]?.S !== ringGateKey)
        .map(itemFromAttributes)
      yield items
    } while (startKey)
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
    const conditions = [noIntent, notMoved]
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
    // A write that may create the key must pass the table's gate, which takes a transaction
    // (a condition on another item); so first try it as an update of an existing copy, and
    // only a key with no copy here pays for the transaction.
    const mayCreate =
      operation === 'put' &&
      (options.expectedVersion === undefined || options.expectedVersion === 'absent')
    const gated = mayCreate && options.ringVersion !== undefined
    if (gated || options.requireItem) conditions.push(exists)
    const expression = [update, ...conditions].join(' ')
    for (let attempt = 1; ; attempt++) {
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
        if (!(error instanceof ConditionalCheckFailedException)) throw error
        const noCopy = !error.Item || error.Item[itemAttributes.version] === undefined
        if (
          noCopy &&
          !error.Item?.[itemAttributes.intent] &&
          !error.Item?.[itemAttributes.movedTo]
        ) {
          if (options.requireItem) throw new ItemAbsentError(storageKey, { cause: error })
          if (gated) {
            const withoutExists = conditions.filter((condition) => condition !== exists)
            const created = await this.createBehindGate(
              operation,
              storageKey,
              update,
              withoutExists,
              values,
              options,
            )
            if (created) return created
            if (attempt < writeAttemptsMax) continue
          }
          await this.checkGate(storageKey, options.ringVersion)
        }
        throw conditionFailure(operation, storageKey, options, error.Item, error)
      }
    }
  }

  /** A transaction's check that the table's gate is not newer than `ringVersion`. */
  private gateCheck(ringVersion: number) {
    return {
      TableName: this.tableName,
      Key: { [itemAttributes.key]: { S: ringGateKey } },
      ConditionExpression: gateOpen,
      ExpressionAttributeNames: { '#gate': gateVersionAttribute },
      ExpressionAttributeValues: { ':ringVersion': { N: String(ringVersion) } },
    }
  }

  /**
   * Creates the key in one transaction with a check that the table's gate is not newer;
   * undefined when a copy appeared meanwhile (the caller retries as an update).
   */
  private async createBehindGate(
    operation: Operation,
    storageKey: string,
    update: string,
    conditions: string[],
    values: Record<string, AttributeValue>,
    options: WriteOptions,
  ): Promise<WriteResult | undefined> {
    const ringVersion = { ':ringVersion': { N: String(options.ringVersion) } }
    const condition = [...conditions, neverWritten].join(' AND ')
    // The key is placed here under this ring (item-format.ts, placedAt).
    const placed = update.replace(/^SET /, 'SET #placedAt = :ringVersion, ')
    const expression = `${placed} ${condition}`
    const placedValues = { ...values, ...ringVersion }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                ConditionCheck: {
                  ...this.gateCheck(options.ringVersion ?? 0),
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
              {
                Update: {
                  TableName: this.tableName,
                  Key: { [itemAttributes.key]: { S: storageKey } },
                  UpdateExpression: placed,
                  ConditionExpression: condition,
                  ExpressionAttributeNames: namesUsedBy(expression),
                  ExpressionAttributeValues: usedOnly(placedValues, expression),
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
            ],
          }),
        )
        return { version: options.assignedVersion ?? 1, created: true }
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error
        const [gate, item] = error.CancellationReasons ?? []
        if (gate?.Code === 'ConditionalCheckFailed') {
          const gateVersion = numberOf(gate.Item?.[gateVersionAttribute]) ?? 0
          throw new StaleRingError(storageKey, options.ringVersion ?? 0, gateVersion, {
            cause: error,
          })
        }
        if (item?.Code === 'ConditionalCheckFailed') {
          const current = item.Item ? itemFromAttributes(item.Item) : undefined
          // A copy appeared since the first attempt: the caller retries as an update.
          if (current && current.version > 0 && !current.movedTo && !current.intent)
            return undefined
          throw conditionFailure(operation, storageKey, options, item.Item, error)
        }
        // A concurrent transaction on the same items: nothing was written; try again.
        if (attempt < writeAttemptsMax) continue
        throw new StoreError(`create of ${JSON.stringify(storageKey)} cancelled`, { cause: error })
      }
    }
  }
}

/**
 * Marks a copy as handed to `region`: refused while an intent is held, to a caller whose
 * ring is not newer than the copy's placement, and (with `pinnedVersion`, a batch of
 * scanned copies) unless the copy is exactly as scanned and not frozen yet.
 */
function freezeUpdate(
  storageKey: string,
  region: string,
  ringVersion: number,
  pinnedVersion?: number,
) {
  const copy =
    pinnedVersion === undefined
      ? `attribute_exists(#version) AND (${notMoved} OR #movedTo = :region)`
      : `#version = :version AND ${notMoved}`
  return {
    Key: { [itemAttributes.key]: { S: storageKey } },
    UpdateExpression: 'SET #movedTo = :region',
    ConditionExpression: `${copy} AND ${noIntent} AND ${placedBefore}`,
    ExpressionAttributeNames: {
      '#version': itemAttributes.version,
      '#intent': itemAttributes.intent,
      '#movedTo': itemAttributes.movedTo,
      '#placedAt': itemAttributes.placedAt,
    },
    ExpressionAttributeValues: {
      ':region': { S: region },
      ':ringVersion': { N: String(ringVersion) },
      ...(pinnedVersion !== undefined && { ':version': { N: String(pinnedVersion) } }),
    },
  }
}

function stripUpdate(storageKey: string, version: number) {
  return {
    Key: { [itemAttributes.key]: { S: storageKey } },
    UpdateExpression: 'REMOVE #value, #contentType',
    ConditionExpression: 'attribute_exists(#movedTo) AND #version = :version',
    ExpressionAttributeNames: {
      '#value': itemAttributes.value,
      '#contentType': itemAttributes.contentType,
      '#movedTo': itemAttributes.movedTo,
      '#version': itemAttributes.version,
    },
    ExpressionAttributeValues: { ':version': { N: String(version) } },
  }
}

/** Names the condition part that failed, from the item as it was (ALL_OLD). */
function conditionFailure(
  operation: Operation,
  storageKey: string,
  options: WriteOptions,
  old: Record<string, AttributeValue> | undefined,
  error: Error,
): StoreError {
  const current = old ? itemFromAttributes(old) : undefined
  const cause = { cause: error }
  const isLive = current !== undefined && !current.deleted && current.version > 0
  if (current?.movedTo) return new KeyMovedError(storageKey, current.movedTo, cause)
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
  const movedTo = item[itemAttributes.movedTo]?.S
  if (movedTo !== undefined) stored.movedTo = movedTo
  const placedAt = numberOf(item[itemAttributes.placedAt])
  if (placedAt !== undefined) stored.placedAt = placedAt
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
