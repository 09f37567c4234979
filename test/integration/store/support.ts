// Shared pieces of the store's integration tests: one DynamoDB adapter per configured region
// (DynamoDB Local keeps a namespace per region), a ring cache with its own config item so test
// files don't share one ring, and raw reads of a region's table.
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb'
import { dynamoClient, stageConfig, storeTableResource } from '@meridian/aws'
import {
  createKvService,
  DynamoRegionalStore,
  DynamoRingConfigStore,
  type KvService,
  type KvServiceParts,
  type RegionalStore,
  type RingConfigStore,
} from '@meridian/store'
import { Resource } from 'sst'

type Linked = Record<string, { name: string }>

export const regions: readonly string[] = stageConfig.storeRegions

export function tableName(region: string): string {
  return (Resource as unknown as Linked)[storeTableResource(region)]!.name
}

export function coordinationTableName(): string {
  return (Resource as unknown as Linked).Coordination!.name
}

export function regionalStore(region: string, table = tableName(region)): DynamoRegionalStore {
  return new DynamoRegionalStore({ client: dynamoClient(region), tableName: table })
}

export function regionalStores(): Record<string, RegionalStore> {
  return Object.fromEntries(regions.map((region) => [region, regionalStore(region)]))
}

export function ringConfigStore(): DynamoRingConfigStore {
  return new DynamoRingConfigStore({
    client: dynamoClient(),
    tableName: coordinationTableName(),
    itemKey: { pk: `test-ring-${crypto.randomUUID()}`, sk: 'config' },
  })
}

/** A KV service over the three regional stores, with its own ring config item. */
export function kvService(
  options: Omit<KvServiceParts, 'ringStore' | 'stores'> & {
    stores?: Record<string, RegionalStore>
    ringStore?: RingConfigStore
  } = {},
): KvService {
  return createKvService({
    stores: regionalStores(),
    ringStore: ringConfigStore(),
    ...options,
  })
}

export async function rawItem(region: string, storageKey: string) {
  const output = await dynamoClient(region).send(
    new GetItemCommand({
      TableName: tableName(region),
      Key: { pk: { S: storageKey } },
      ConsistentRead: true,
    }),
  )
  return output.Item
}

/** Stages a transaction intent on the key's owning item, as the transactions package does. */
export async function stageIntent(service: KvService, key: string, operation: 'put' | 'delete') {
  const { storageKey, owners } = await service.owners('default', key)
  const region = owners[0]!.region
  const transactionId = `txn-${crypto.randomUUID()}`
  await dynamoClient(region).send(
    new UpdateItemCommand({
      TableName: tableName(region),
      Key: { pk: { S: storageKey } },
      UpdateExpression: 'SET #intent = :intent',
      ExpressionAttributeNames: { '#intent': 'intent' },
      ExpressionAttributeValues: {
        ':intent': {
          M: {
            transactionId: { S: transactionId },
            operation: { S: operation },
            ...(operation === 'put' && {
              value: { B: new TextEncoder().encode('staged') },
              contentType: { S: 'text/plain' },
            }),
            baseVersion: { N: '1' },
            preparedAtMs: { N: '1' },
          },
        },
      },
    }),
  )
  return transactionId
}
