// Shared pieces of the store's integration tests: one DynamoDB adapter per configured region
// (DynamoDB Local keeps a namespace per region), a ring cache with its own config item so test
// files don't share one ring, and raw reads of a region's table.
import { CreateTableCommand, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb'
import { dynamoClient, stageConfig, storeTableResource } from '@meridian/aws'
import {
  createKvService,
  DynamoMigrationLog,
  DynamoRegionalStore,
  DynamoRingConfigStore,
  type KvService,
  type KvServiceParts,
  type MigrationQueue,
  type MigrationTask,
  type RegionalStore,
  type RingConfigStore,
  RingMigrationService,
} from '@meridian/store'
import {
  DynamoDbParticipant,
  DynamoDbTransactionLog,
  systemClock,
  TransactionService,
} from '@meridian/txn'
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

/** Fresh store tables, one per region: ring migrations raise a table's gate for every ring. */
export async function isolatedRegionalStores(
  inRegions: readonly string[] = regions,
): Promise<Record<string, DynamoRegionalStore>> {
  const suffix = crypto.randomUUID().slice(0, 8)
  const entries = await Promise.all(
    inRegions.map(async (region) => {
      const table = `test-store-${region}-${suffix}`
      await dynamoClient(region).send(
        new CreateTableCommand({
          TableName: table,
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      )
      return [region, regionalStore(region, table)] as const
    }),
  )
  return Object.fromEntries(entries)
}

/** An in-process task queue: tasks wait until a test runs them (in any order, any number of times). */
export class TaskInbox implements MigrationQueue {
  readonly pending: MigrationTask[] = []
  sent = 0

  async send(tasks: readonly MigrationTask[]): Promise<void> {
    this.sent += tasks.length
    this.pending.push(...tasks)
  }

  /** Runs every task, each `times` times concurrently, until none is left. */
  async drain(service: RingMigrationService, times = 1): Promise<void> {
    while (this.pending.length > 0) {
      const tasks = this.pending.splice(0)
      await Promise.all(
        tasks.flatMap((task) => Array.from({ length: times }, () => service.run(task))),
      )
    }
  }
}

export interface MigratingRing {
  kv: KvService
  stores: Record<string, DynamoRegionalStore>
  ringStore: DynamoRingConfigStore
  inbox: TaskInbox
  migrations: RingMigrationService
  /** Another handler over the same ring and tables (its own ring cache). */
  handler(options?: Omit<KvServiceParts, 'ringStore' | 'stores'>): KvService
}

/** A ring over fresh tables with a migration service whose tasks wait in an inbox. */
export async function migratingRing(
  options: Omit<KvServiceParts, 'ringStore' | 'stores'> = {},
  segments = 2,
): Promise<MigratingRing> {
  const stores = await isolatedRegionalStores()
  const ringStore = ringConfigStore()
  const handler = (parts: Omit<KvServiceParts, 'ringStore' | 'stores'> = {}) =>
    createKvService({ stores, ringStore, ...parts })
  const kv = handler(options)
  const inbox = new TaskInbox()
  const migrations = new RingMigrationService({
    kv,
    ringStore,
    queue: inbox,
    log: new DynamoMigrationLog({
      client: dynamoClient(),
      tableName: coordinationTableName(),
      prefix: `test-migration-${crypto.randomUUID()}`,
    }),
    segments,
  })
  return { kv, stores, ringStore, inbox, migrations, handler }
}

/**
 * A transaction service over a migrating ring's tables that routes keys through `kv` (so it
 * pulls a moving key before staging its intent, as functions/store-services.ts wires it).
 */
export function transactionServiceOver(ring: MigratingRing, kv: KvService): TransactionService {
  return new TransactionService({
    log: new DynamoDbTransactionLog({ client: dynamoClient(), tableName: coordinationTableName() }),
    participant: new DynamoDbParticipant(
      Object.fromEntries(
        Object.entries(ring.stores).map(([region, store]) => [
          region,
          { client: dynamoClient(region), tableName: store.tableName },
        ]),
      ),
    ),
    clock: systemClock,
    router: {
      regionOf: async (routingKey) => (await kv.writePlacement(routingKey)).region,
      placementOf: (routingKey) => kv.writePlacement(routingKey),
    },
  })
}
