// Creates every table, queue and bucket from the shared definitions, idempotently: a run
// against engines that already hold them (a persisted DynamoDB, a second `npm start`)
// changes nothing and succeeds. An existing table whose key schema differs from the
// definition is an error, not something to paper over; an index the definition gained
// since the table was created (a persisted data directory) is added to it.
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb'
import { CreateBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3'
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  QueueNameExists,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import {
  dataBucket,
  type QueueDefinition,
  queues,
  type TableDefinition,
  tables,
} from '@meridian/aws'
import {
  type EngineEndpoints,
  type LocalQueue,
  type LocalResources,
  localBucketName,
  localQueueName,
  localTableName,
} from './local-resources'

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' }

export interface BootstrapOptions {
  stage: string
  region: string
  endpoints: EngineEndpoints
}

export async function bootstrapResources(options: BootstrapOptions): Promise<LocalResources> {
  const { stage, region, endpoints } = options
  const tableNames = new Map<TableDefinition, string>()
  await Promise.all(
    tables.map(async (table) => {
      const name = localTableName(stage, table)
      const client = new DynamoDBClient({
        endpoint: endpoints.dynamodbEndpoint,
        region: table.region ?? region,
        credentials,
      })
      try {
        await ensureTable(client, name, table)
      } finally {
        client.destroy()
      }
      tableNames.set(table, name)
    }),
  )

  const sqs = new SQSClient({
    endpoint: endpoints.sqsEndpoint,
    region,
    credentials,
    useQueueUrlAsEndpoint: false,
  })
  const queueMap = new Map<string, LocalQueue>()
  try {
    for (const queue of queues) {
      for (const [resource, created] of await ensureQueue(sqs, stage, queue)) {
        queueMap.set(resource, created)
      }
    }
  } finally {
    sqs.destroy()
  }

  const bucketName = localBucketName(stage, dataBucket)
  const s3 = new S3Client({
    endpoint: endpoints.s3Endpoint,
    region,
    credentials,
    forcePathStyle: true,
  })
  try {
    await ensureBucket(s3, bucketName)
  } finally {
    s3.destroy()
  }
  return { stage, region, tables: tableNames, queues: queueMap, bucketName }
}

export function createTableInput(name: string, table: TableDefinition): CreateTableCommandInput {
  const keySchema = (index: { hashKey: string; rangeKey?: string }) => [
    { AttributeName: index.hashKey, KeyType: 'HASH' as const },
    ...(index.rangeKey ? [{ AttributeName: index.rangeKey, KeyType: 'RANGE' as const }] : []),
  ]
  const typeCode = { string: 'S', number: 'N', binary: 'B' } as const
  const globalIndexes = Object.entries(table.globalIndexes ?? {})
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: Object.entries(table.fields).map(([attribute, type]) => ({
      AttributeName: attribute,
      AttributeType: typeCode[type],
    })),
    KeySchema: keySchema(table.primaryIndex),
    GlobalSecondaryIndexes: globalIndexes.length
      ? globalIndexes.map(([indexName, index]) => ({
          IndexName: indexName,
          KeySchema: keySchema(index),
          Projection: { ProjectionType: 'ALL' },
        }))
      : undefined,
  }
}

async function ensureTable(client: DynamoDBClient, name: string, table: TableDefinition) {
  const input = createTableInput(name, table)
  try {
    await client.send(new CreateTableCommand(input))
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error
    const existing = await client.send(new DescribeTableCommand({ TableName: name }))
    const want = JSON.stringify(input.KeySchema)
    const have = JSON.stringify(existing.Table?.KeySchema)
    if (want !== have) {
      throw new Error(`table ${name} exists with key schema ${have}, expected ${want}`)
    }
    await addMissingIndexes(client, input, existing.Table)
  }
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: name })
  if (table.ttl) {
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: table.ttl, Enabled: true },
        }),
      )
    } catch (error) {
      // Enabling TTL twice is a ValidationException; anything else is real.
      if ((error as Error).name !== 'ValidationException') throw error
    }
  }
}

/** Creates, one at a time (DynamoDB allows one index creation per update), the indexes a table lacks. */
async function addMissingIndexes(
  client: DynamoDBClient,
  input: CreateTableCommandInput,
  existing: TableDescription | undefined,
) {
  const have = new Set((existing?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName))
  for (const index of input.GlobalSecondaryIndexes ?? []) {
    if (have.has(index.IndexName)) continue
    const keyAttributes = new Set(index.KeySchema?.map((key) => key.AttributeName))
    await client.send(
      new UpdateTableCommand({
        TableName: input.TableName,
        AttributeDefinitions: input.AttributeDefinitions?.filter((definition) =>
          keyAttributes.has(definition.AttributeName),
        ),
        GlobalSecondaryIndexUpdates: [{ Create: index }],
      }),
    )
  }
}

async function ensureQueue(
  sqs: SQSClient,
  stage: string,
  queue: QueueDefinition,
): Promise<Array<[string, LocalQueue]>> {
  const deadLetter = await createOrUpdateQueue(
    sqs,
    localQueueName(stage, queue.deadLetter.resource),
    {
      MessageRetentionPeriod: String(14 * 24 * 3600),
    },
  )
  const main = await createOrUpdateQueue(sqs, localQueueName(stage, queue.resource), {
    VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: deadLetter.arn,
      maxReceiveCount: queue.deadLetter.maxReceiveCount,
    }),
  })
  return [
    [queue.deadLetter.resource, deadLetter],
    [queue.resource, main],
  ]
}

export async function createOrUpdateQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<LocalQueue> {
  let url: string | undefined
  try {
    url = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes })))
      .QueueUrl
  } catch (error) {
    // CreateQueue is idempotent only for identical attributes; bring an older queue up to date.
    if (!(error instanceof QueueNameExists)) throw error
    url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }))
  }
  if (!url) throw new Error(`CreateQueue returned no URL for ${name}`)
  const described = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  )
  const arn = described.Attributes?.QueueArn
  if (!arn) throw new Error(`GetQueueAttributes returned no ARN for ${name}`)
  return { url, arn }
}

async function ensureBucket(s3: S3Client, name: string) {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: name }))
  } catch (error) {
    const owned = ['BucketAlreadyOwnedByYou', 'BucketAlreadyExists']
    if (!(error instanceof S3ServiceException && owned.includes(error.name))) throw error
  }
}
