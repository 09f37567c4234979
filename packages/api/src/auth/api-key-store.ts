// Where API key records live: the coordination table, one item per key
// (pk `apikey#<id>`, sk `apikey`), plus a per-tenant listing through the same table
// (pk `apikeys#<tenant>`, sk `<id>`). Creation is one TransactWriteItems of both items,
// conditional on the id being new; revocation stamps revokedAtMs (kept for audit).
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import type { ApiKeyRecord, Scope } from './api-keys'

export interface ApiKeyStore {
  create(record: ApiKeyRecord): Promise<void>
  get(id: string): Promise<ApiKeyRecord | undefined>
  listByTenant(tenant: string): Promise<ApiKeyRecord[]>
  /** Returns false when no such key exists. Revoking twice is fine. */
  revoke(id: string, nowMs: number): Promise<boolean>
}

export class DynamoApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async create(record: ApiKeyRecord): Promise<void> {
    const item = {
      id: { S: record.id },
      tenant: { S: record.tenant },
      scopes: { SS: record.scopes },
      name: { S: record.name },
      secretSha256: { S: record.secretSha256 },
      createdAtMs: { N: String(record.createdAtMs) },
    }
    await this.client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.tableName,
              Item: { pk: { S: `apikey#${record.id}` }, sk: { S: 'apikey' }, ...item },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Put: {
              TableName: this.tableName,
              Item: { pk: { S: `apikeys#${record.tenant}` }, sk: { S: record.id }, ...item },
            },
          },
        ],
      }),
    )
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: `apikey#${id}` }, sk: { S: 'apikey' } },
        ConsistentRead: true,
      }),
    )
    return Item ? fromItem(Item) : undefined
  }

  async listByTenant(tenant: string): Promise<ApiKeyRecord[]> {
    const records: ApiKeyRecord[] = []
    let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: `apikeys#${tenant}` } },
          ExclusiveStartKey: start,
        }),
      )
      for (const item of page.Items ?? []) {
        // The listing copy doesn't see revocations; the key item is the truth.
        const current = await this.get(item.id?.S ?? '')
        if (current) records.push(current)
      }
      start = page.LastEvaluatedKey
    } while (start)
    return records
  }

  async revoke(id: string, nowMs: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: `apikey#${id}` }, sk: { S: 'apikey' } },
          UpdateExpression: 'SET revokedAtMs = if_not_exists(revokedAtMs, :now)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':now': { N: String(nowMs) } },
        }),
      )
      return true
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false
      throw error
    }
  }
}

function fromItem(
  item: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue>,
): ApiKeyRecord {
  return {
    id: item.id?.S ?? '',
    tenant: item.tenant?.S ?? '',
    scopes: (item.scopes?.SS ?? []) as Scope[],
    name: item.name?.S ?? '',
    secretSha256: item.secretSha256?.S ?? '',
    createdAtMs: Number(item.createdAtMs?.N ?? 0),
    ...(item.revokedAtMs?.N && { revokedAtMs: Number(item.revokedAtMs.N) }),
  }
}
