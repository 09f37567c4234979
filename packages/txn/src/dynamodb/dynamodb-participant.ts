// The Participant over the regional store tables: intents are written straight into the
// store items, in the shared item format (packages/store/src/item-format.ts). One table per
// region; the caller passes each region's client and table name.
//
// Prepare is one conditional write when the caller states the expected version (a number,
// or 'absent' for a key never written); the condition pins the exact base version and
// `attribute_not_exists(intent)`. When the guess is wrong, the failed write returns the
// current item (ALL_OLD), the shared rules judge it, and a still-acceptable key (a
// tombstone for 'absent') is retried once on its exact version. An unconditional write
// reads the key first (a read, not a write) and pins the version it saw.
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import { gateVersionAttribute, type Intent, itemAttributes, ringGateKey } from '@meridian/store'
import { judgeStaging, prepareAttemptsMax } from '../participant-rules'
import type {
  ApplyRequest,
  CheckRequest,
  Participant,
  ParticipantItem,
  PrepareRequest,
  Vote,
} from '../ports'

export interface RegionalTable {
  client: DynamoDBClient
  tableName: string
}

const names = {
  '#intent': itemAttributes.intent,
  '#version': itemAttributes.version,
  '#deleted': itemAttributes.deleted,
  '#value': itemAttributes.value,
  '#contentType': itemAttributes.contentType,
  '#updatedAtMs': itemAttributes.updatedAtMs,
  '#transactionId': 'transactionId',
  '#operation': 'operation',
  '#baseVersion': 'baseVersion',
}

// Condition parts.
const noIntent = 'attribute_not_exists(#intent)'
const notMoved = 'attribute_not_exists(#movedTo)'
const neverWritten = 'attribute_not_exists(#version)'
const versionIs = '#version = :baseVersion'
const notTombstone = 'NOT #deleted = :true'
const heldByUs = '#intent.#transactionId = :transactionId AND #intent.#operation = :operation'

function intentAttribute(request: PrepareRequest, baseVersion: number): AttributeValue {
  const map: Record<string, AttributeValue> = {
    transactionId: { S: request.transactionId },
    operation: { S: request.operation },
    baseVersion: { N: String(baseVersion) },
    preparedAtMs: { N: String(request.nowMs) },
  }
  if (request.value !== undefined) map.value = { B: request.value }
  if (request.contentType !== undefined) map.contentType = { S: request.contentType }
  return { M: map }
}

export function participantItemFrom(item: Record<string, AttributeValue>): ParticipantItem {
  const result: ParticipantItem = {
    version: Number(item[itemAttributes.version]?.N ?? 0),
    deleted: item[itemAttributes.deleted]?.BOOL === true,
  }
  const value = item[itemAttributes.value]?.B
  if (value !== undefined) result.value = value
  const contentType = item[itemAttributes.contentType]?.S
  if (contentType !== undefined) result.contentType = contentType
  const movedTo = item[itemAttributes.movedTo]?.S
  if (movedTo !== undefined) result.movedTo = movedTo
  const intent = item[itemAttributes.intent]?.M
  if (intent) {
    const parsed: Intent = {
      transactionId: intent.transactionId?.S ?? '',
      operation: intent.operation?.S === 'delete' ? 'delete' : 'put',
      baseVersion: Number(intent.baseVersion?.N ?? 0),
      preparedAtMs: Number(intent.preparedAtMs?.N ?? 0),
    }
    if (intent.value?.B !== undefined) parsed.value = intent.value.B
    if (intent.contentType?.S !== undefined) parsed.contentType = intent.contentType.S
    result.intent = parsed
  }
  return result
}

/** The first condition to try: what the caller's expectation says, before any read. */
type Guess = { baseVersion: number; live: boolean } | undefined

export class DynamoDbParticipant implements Participant {
  constructor(private readonly tables: Readonly<Record<string, RegionalTable>>) {}

  private table(region: string): RegionalTable {
    const table = this.tables[region]
    if (!table) throw new Error(`no store table configured for region ${region}`)
    return table
  }

  async prepare(request: PrepareRequest): Promise<Vote> {
    let guess: Guess
    const expected = request.expectedVersion
    if (typeof expected === 'number') guess = { baseVersion: expected, live: true }
    else if (expected === 'absent' && request.operation === 'put')
      guess = { baseVersion: 0, live: false }
    else {
      const current = await this.read(request.region, request.storageKey)
      const judgement = judgeStaging(current, request.transactionId, request.operation, expected)
      if (!judgement.accept) return judgement.vote
      if (judgement.alreadyStaged) return { vote: 'yes', baseVersion: judgement.baseVersion }
      guess = { baseVersion: judgement.baseVersion, live: false }
    }
    for (let attempt = 0; attempt < prepareAttemptsMax; attempt++) {
      const failed = await this.stage(request, guess)
      if (failed === undefined) return { vote: 'yes', baseVersion: guess.baseVersion }
      // The key moved to another region's table (a ring migration), or the table's gate is
      // newer than the ring this was routed by: no here; the client retries on the new ring.
      if (failed.moved || failed.current?.movedTo !== undefined) {
        return {
          vote: 'no',
          reason: 'version-mismatch',
          currentVersion: failed.current?.version ?? 0,
        }
      }
      const judgement = judgeStaging(
        failed.current,
        request.transactionId,
        request.operation,
        expected,
      )
      if (!judgement.accept) return judgement.vote
      if (judgement.alreadyStaged) return { vote: 'yes', baseVersion: judgement.baseVersion }
      guess = { baseVersion: judgement.baseVersion, live: false }
    }
    return { vote: 'no', reason: 'version-mismatch', currentVersion: guess.baseVersion }
  }

  /** One conditional write of the intent; the current item when the condition failed. */
  private async stage(
    request: PrepareRequest,
    guess: NonNullable<Guess>,
  ): Promise<
    { current: ParticipantItem | undefined; moved?: boolean; error?: unknown } | undefined
  > {
    const table = this.table(request.region)
    const version = guess.baseVersion === 0 ? neverWritten : versionIs
    const conditions = [noIntent, notMoved, version, ...(guess.live ? [notTombstone] : [])]
    const values: Record<string, AttributeValue> = {
      ':intent': intentAttribute(request, guess.baseVersion),
    }
    if (guess.baseVersion !== 0) values[':baseVersion'] = { N: String(guess.baseVersion) }
    if (guess.live) values[':true'] = { BOOL: true }
    const update = {
      TableName: table.tableName,
      Key: { [itemAttributes.key]: { S: request.storageKey } },
      UpdateExpression: 'SET #intent = :intent',
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: {
        '#intent': names['#intent'],
        '#version': names['#version'],
        '#movedTo': itemAttributes.movedTo,
        ...(guess.live && { '#deleted': names['#deleted'] }),
      } as Record<string, string>,
      ExpressionAttributeValues: values,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    }
    try {
      // Staging on a key never written here creates its item: the table's gate must not be
      // newer than the ring the key was routed by (packages/store/src/item-format.ts).
      if (guess.baseVersion === 0 && request.ringVersion !== undefined) {
        update.UpdateExpression = 'SET #intent = :intent, #placedAt = :ringVersion'
        update.ExpressionAttributeNames = {
          ...update.ExpressionAttributeNames,
          '#placedAt': itemAttributes.placedAt,
        }
        update.ExpressionAttributeValues = {
          ...values,
          ':ringVersion': { N: String(request.ringVersion) },
        }
        await table.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                ConditionCheck: {
                  TableName: table.tableName,
                  Key: { [itemAttributes.key]: { S: ringGateKey } },
                  ConditionExpression: 'attribute_not_exists(#gate) OR #gate <= :ringVersion',
                  ExpressionAttributeNames: { '#gate': gateVersionAttribute },
                  ExpressionAttributeValues: { ':ringVersion': { N: String(request.ringVersion) } },
                },
              },
              { Update: update },
            ],
          }),
        )
      } else await table.client.send(new UpdateItemCommand(update))
      return undefined
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        return { current: error.Item ? participantItemFrom(error.Item) : undefined, error }
      }
      if (error instanceof TransactionCanceledException) {
        const [gate, item] = error.CancellationReasons ?? []
        if (gate?.Code === 'ConditionalCheckFailed') return { current: undefined, moved: true }
        if (item?.Code === 'ConditionalCheckFailed') {
          return { current: item.Item ? participantItemFrom(item.Item) : undefined, error }
        }
      }
      throw error
    }
  }

  async check(request: CheckRequest): Promise<Vote> {
    const current = await this.read(request.region, request.storageKey)
    const judgement = judgeStaging(current, request.transactionId, 'check', request.expectedVersion)
    return judgement.accept ? { vote: 'yes', baseVersion: judgement.baseVersion } : judgement.vote
  }

  async apply(request: ApplyRequest): Promise<'applied' | 'not-held'> {
    const table = this.table(request.region)
    const commonSets = '#version = #intent.#baseVersion + :one, #updatedAtMs = :nowMs'
    const update =
      request.operation === 'put'
        ? `SET #value = #intent.#value, #contentType = #intent.#contentType, ${commonSets} REMOVE #intent, #deleted`
        : `SET #deleted = :true, ${commonSets} REMOVE #intent, #value, #contentType`
    try {
      await table.client.send(
        new UpdateItemCommand({
          TableName: table.tableName,
          Key: { [itemAttributes.key]: { S: request.storageKey } },
          UpdateExpression: update,
          ConditionExpression: heldByUs,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':transactionId': { S: request.transactionId },
            ':operation': { S: request.operation },
            ':one': { N: '1' },
            ':nowMs': { N: String(request.nowMs) },
            ...(request.operation === 'delete' && { ':true': { BOOL: true } }),
          },
        }),
      )
      return 'applied'
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'not-held'
      throw error
    }
  }

  async discard(
    region: string,
    storageKey: string,
    transactionId: string,
  ): Promise<'discarded' | 'not-held'> {
    const table = this.table(region)
    try {
      await table.client.send(
        new UpdateItemCommand({
          TableName: table.tableName,
          Key: { [itemAttributes.key]: { S: storageKey } },
          UpdateExpression: 'REMOVE #intent',
          ConditionExpression: '#intent.#transactionId = :transactionId',
          ExpressionAttributeNames: {
            '#intent': names['#intent'],
            '#transactionId': names['#transactionId'],
          },
          ExpressionAttributeValues: { ':transactionId': { S: transactionId } },
        }),
      )
      return 'discarded'
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'not-held'
      throw error
    }
  }

  async read(region: string, storageKey: string): Promise<ParticipantItem | undefined> {
    const table = this.table(region)
    const result = await table.client.send(
      new GetItemCommand({
        TableName: table.tableName,
        Key: { [itemAttributes.key]: { S: storageKey } },
        ConsistentRead: true,
      }),
    )
    return result.Item ? participantItemFrom(result.Item) : undefined
  }
}
