// The DynamoDB adapter of the LockTable port, on the coordination table.
//
// Items:
//   pk `lock#${tenant}#${name}`, sk `lock`: fence N, owner S?, leaseUntilMs N?, updatedAtMs N
//   pk `lock-floor#${tenant}`,   sk `floor`: fenceFloor N (never deleted)
// A lock item also carries gsi2pk `lock#${tenant}` and gsi2sk `${name}` (set on create and
// on every acquire, so items older than the listing join it on their next grant): the
// `tenantListing` index pages through one tenant's locks by name with a Query.
//
// Lock items never get `expiresAt`: DynamoDB's TTL would delete them without raising the
// floor and the next grant would restart the fence. Idle items are removed only by
// `removeIdle`, a transaction that deletes the item and raises the tenant's floor to its
// fence, so a re-created lock starts at floor + 1, above every fence the name ever had.
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import { InvalidLockCursorError } from './errors'
import { lockNamePattern } from './lease'
import type {
  GrantInput,
  ListedLock,
  LockKey,
  LockListing,
  LockListQuery,
  LockRecord,
  LockTable,
  LockWriteResult,
} from './lock-table'

type Item = Record<string, AttributeValue>

const names = {
  '#owner': 'owner',
  '#fence': 'fence',
  '#leaseUntilMs': 'leaseUntilMs',
  '#updatedAtMs': 'updatedAtMs',
}

// Condition parts, named once and combined per write.
const exists = 'attribute_exists(#fence)'
const absent = 'attribute_not_exists(#fence)'
const free = 'attribute_not_exists(#owner)'
const expired = '#leaseUntilMs < :expiredBeforeMs'
const heldBy = '#owner = :owner AND #fence = :fence'
const untouchedSince = '#updatedAtMs < :idleBeforeMs'
const expiredLongAgo = '#leaseUntilMs < :idleBeforeMs'
const sameFence = '#fence = :fence'

// The placeholders each pair of expressions uses, computed once per pair (there are four).
const namesByExpressions = new Map<string, Record<string, string>>()

function namesUsedBy(updateExpression: string, conditionExpression: string) {
  const expressions = `${updateExpression}\n${conditionExpression}`
  let used = namesByExpressions.get(expressions)
  if (!used) {
    used = Object.fromEntries(
      Object.entries(names).filter(([placeholder]) => expressions.includes(placeholder)),
    )
    namesByExpressions.set(expressions, used)
  }
  return used
}

export function lockItemKey(key: LockKey): Item {
  return { pk: { S: `lock#${key.tenant}#${key.name}` }, sk: { S: 'lock' } }
}

/** The listing index attributes of a lock item. */
function listingAttributes(key: LockKey): Item {
  return { ':listingPk': { S: `lock#${key.tenant}` }, ':listingSk': { S: key.name } }
}
const setListing = 'gsi2pk = :listingPk, gsi2sk = :listingSk'
/** Index pages one listing request reads at most while a held filter skips locks. */
const listingPagesMax = 10

export function fenceFloorItemKey(tenant: string): Item {
  return { pk: { S: `lock-floor#${tenant}` }, sk: { S: 'floor' } }
}

const number = (value: number): AttributeValue => ({ N: String(value) })

function toRecord(item: Item | undefined): LockRecord | undefined {
  if (!item?.fence?.N) return undefined
  const record: LockRecord = {
    fence: Number(item.fence.N),
    updatedAtMs: Number(item.updatedAtMs?.N ?? 0),
  }
  if (item.owner?.S !== undefined) record.owner = item.owner.S
  if (item.leaseUntilMs?.N !== undefined) record.leaseUntilMs = Number(item.leaseUntilMs.N)
  return record
}

export class DynamoLockTable implements LockTable, LockListing {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  acquire(key: LockKey, grant: GrantInput): Promise<LockWriteResult> {
    // The new fence is the one value the caller can't know; UPDATED_NEW returns it with the
    // other attributes this write set (not the key), all a LockRecord holds.
    return this.update({
      Key: lockItemKey(key),
      UpdateExpression: `SET #owner = :owner, #leaseUntilMs = :leaseUntilMs, #updatedAtMs = :nowMs, ${setListing} ADD #fence :one`,
      ConditionExpression: `${exists} AND (${free} OR ${expired})`,
      ExpressionAttributeValues: {
        ...listingAttributes(key),
        ':owner': { S: grant.owner },
        ':leaseUntilMs': number(grant.leaseUntilMs),
        ':nowMs': number(grant.nowMs),
        ':expiredBeforeMs': number(grant.expiredBeforeMs),
        ':one': number(1),
      },
    })
  }

  create(key: LockKey, grant: GrantInput & { fence: number }): Promise<LockWriteResult> {
    return this.update({
      Key: lockItemKey(key),
      written: {
        fence: grant.fence,
        owner: grant.owner,
        leaseUntilMs: grant.leaseUntilMs,
        updatedAtMs: grant.nowMs,
      },
      UpdateExpression: `SET #owner = :owner, #leaseUntilMs = :leaseUntilMs, #updatedAtMs = :nowMs, #fence = :fence, ${setListing}`,
      ConditionExpression: absent,
      ExpressionAttributeValues: {
        ...listingAttributes(key),
        ':owner': { S: grant.owner },
        ':leaseUntilMs': number(grant.leaseUntilMs),
        ':nowMs': number(grant.nowMs),
        ':fence': number(grant.fence),
      },
    })
  }

  renew(
    key: LockKey,
    input: { owner: string; fence: number; leaseUntilMs: number; nowMs: number },
  ): Promise<LockWriteResult> {
    return this.update({
      Key: lockItemKey(key),
      written: {
        fence: input.fence,
        owner: input.owner,
        leaseUntilMs: input.leaseUntilMs,
        updatedAtMs: input.nowMs,
      },
      UpdateExpression: 'SET #leaseUntilMs = :leaseUntilMs, #updatedAtMs = :nowMs',
      ConditionExpression: heldBy,
      ExpressionAttributeValues: {
        ':owner': { S: input.owner },
        ':fence': number(input.fence),
        ':leaseUntilMs': number(input.leaseUntilMs),
        ':nowMs': number(input.nowMs),
      },
    })
  }

  release(
    key: LockKey,
    input: { owner: string; fence: number; nowMs: number },
  ): Promise<LockWriteResult> {
    return this.update({
      Key: lockItemKey(key),
      written: { fence: input.fence, updatedAtMs: input.nowMs },
      UpdateExpression: 'SET #updatedAtMs = :nowMs REMOVE #owner, #leaseUntilMs',
      ConditionExpression: heldBy,
      ExpressionAttributeValues: {
        ':owner': { S: input.owner },
        ':fence': number(input.fence),
        ':nowMs': number(input.nowMs),
      },
    })
  }

  async read(key: LockKey): Promise<LockRecord | undefined> {
    const output = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: lockItemKey(key),
        ConsistentRead: true,
      }),
    )
    return toRecord(output.Item)
  }

  /**
   * One page of the tenant's locks by name. DynamoDB's Limit counts items read before the
   * filter, so each read asks for at most the locks still missing: the cursor (the last
   * name read) never skips one. A held filter may end a page early after listingPagesMax reads.
   */
  async list(
    tenant: string,
    query: LockListQuery,
  ): Promise<{ locks: ListedLock[]; nextCursor: string | null }> {
    const held = `attribute_exists(#owner) AND #leaseUntilMs >= :heldSinceMs`
    const filter =
      query.held === undefined
        ? undefined
        : query.held
          ? held
          : `attribute_not_exists(#owner) OR attribute_not_exists(#leaseUntilMs) OR #leaseUntilMs < :heldSinceMs`
    let startName = query.cursor === undefined ? undefined : decodeCursor(query.cursor)
    const locks: ListedLock[] = []
    for (let page = 0; page < listingPagesMax && locks.length < query.limit; page++) {
      const output = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'tenantListing',
          KeyConditionExpression: 'gsi2pk = :listingPk',
          ...(filter && {
            FilterExpression: filter,
            ExpressionAttributeNames: { '#owner': 'owner', '#leaseUntilMs': 'leaseUntilMs' },
          }),
          ExpressionAttributeValues: {
            ':listingPk': { S: `lock#${tenant}` },
            ...(filter && { ':heldSinceMs': number(query.heldSinceMs) }),
          },
          Limit: query.limit - locks.length,
          ExclusiveStartKey:
            startName === undefined
              ? undefined
              : {
                  ...lockItemKey({ tenant, name: startName }),
                  gsi2pk: { S: `lock#${tenant}` },
                  gsi2sk: { S: startName },
                },
        }),
      )
      for (const item of output.Items ?? []) {
        const record = toRecord(item)
        if (record && item.gsi2sk?.S !== undefined) locks.push({ ...record, name: item.gsi2sk.S })
      }
      startName = output.LastEvaluatedKey?.gsi2sk?.S
      if (startName === undefined) break
    }
    return { locks, nextCursor: startName === undefined ? null : encodeCursor(startName) }
  }

  async readFenceFloor(tenant: string): Promise<number> {
    const output = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: fenceFloorItemKey(tenant),
        ConsistentRead: true,
      }),
    )
    return Number(output.Item?.fenceFloor?.N ?? 0)
  }

  async removeIdle(
    key: LockKey,
    input: { fence: number; idleBeforeMs: number },
  ): Promise<LockWriteResult> {
    const deleteIdle = {
      Delete: {
        TableName: this.tableName,
        Key: lockItemKey(key),
        ConditionExpression: `${sameFence} AND ${untouchedSince} AND (${free} OR ${expiredLongAgo})`,
        ExpressionAttributeNames: {
          '#fence': 'fence',
          '#owner': 'owner',
          '#updatedAtMs': 'updatedAtMs',
          '#leaseUntilMs': 'leaseUntilMs',
        },
        ExpressionAttributeValues: {
          ':fence': number(input.fence),
          ':idleBeforeMs': number(input.idleBeforeMs),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      },
    }
    const floorNames = { '#fenceFloor': 'fenceFloor' }
    const floorValues = { ':fence': number(input.fence) }
    // DynamoDB has no max(): first try raising the floor to this fence; if the floor is
    // already higher (another name's cleanup), delete with a check that it still is.
    const raiseFloor = {
      Update: {
        TableName: this.tableName,
        Key: fenceFloorItemKey(key.tenant),
        UpdateExpression: 'SET #fenceFloor = :fence',
        ConditionExpression: 'attribute_not_exists(#fenceFloor) OR #fenceFloor < :fence',
        ExpressionAttributeNames: floorNames,
        ExpressionAttributeValues: floorValues,
      },
    }
    const floorAlreadyHigher = {
      ConditionCheck: {
        TableName: this.tableName,
        Key: fenceFloorItemKey(key.tenant),
        ConditionExpression: '#fenceFloor >= :fence',
        ExpressionAttributeNames: floorNames,
        ExpressionAttributeValues: floorValues,
      },
    }
    for (const floorPart of [raiseFloor, floorAlreadyHigher]) {
      try {
        await this.client.send(
          new TransactWriteItemsCommand({ TransactItems: [deleteIdle, floorPart] }),
        )
        return { ok: true, record: { fence: input.fence, updatedAtMs: input.idleBeforeMs } }
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error
        const [lockReason, floorReason] = error.CancellationReasons ?? []
        if (lockReason?.Code === 'ConditionalCheckFailed')
          return { ok: false, current: toRecord(lockReason.Item) }
        if (floorReason?.Code !== 'ConditionalCheckFailed') throw error
      }
    }
    throw new Error('fence floor changed between two cleanup attempts') // floors only grow
  }

  /**
   * One conditional UpdateItem. A successful write returns nothing when the caller already
   * knows every value it wrote (`written`: the condition pinned the fence and owner), or
   * the updated attributes otherwise; the response is parsed on the caller's CPU, and on
   * DynamoDB Local a lock cycle is mostly client CPU. A failed condition always returns the
   * whole item as it was (ALL_OLD), so the caller learns the holder without a read.
   */
  private async update(input: {
    Key: Item
    UpdateExpression: string
    ConditionExpression: string
    ExpressionAttributeValues: Item
    written?: LockRecord
  }): Promise<LockWriteResult> {
    const { written, ...write } = input
    try {
      const output = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          ...write,
          ExpressionAttributeNames: namesUsedBy(input.UpdateExpression, input.ConditionExpression),
          ReturnValues: written ? 'NONE' : 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      const record = written ?? toRecord(output.Attributes)
      if (!record) throw new Error('UpdateItem returned no attributes')
      return { ok: true, record }
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        // The SDK retries throttles, 5xx and timeouts itself: a condition that failed on a
        // later attempt may have failed on the first attempt's own write.
        const resent = (error.$metadata.attempts ?? 1) > 1
        return { ok: false, current: toRecord(error.Item), ...(resent && { resent }) }
      }
      throw error
    }
  }
}

// A cursor is the lock name where a page stopped, base64url JSON: opaque to clients, and
// checked on the way back so a forged one is a 400, never a Query outside the tenant.
function encodeCursor(name: string): string {
  return Buffer.from(JSON.stringify([name])).toString('base64url')
}

function decodeCursor(cursor: string): string {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch (error) {
    throw new InvalidLockCursorError({ cause: error })
  }
  const name = Array.isArray(parsed) && parsed.length === 1 ? parsed[0] : undefined
  if (typeof name !== 'string' || !lockNamePattern.test(name)) throw new InvalidLockCursorError()
  return name
}
