// A persisted DynamoDB Local data directory keeps tables created from an older definition.
// Bootstrapping against it adds the indexes the definition gained since (here the
// coordination table's tenantListing index), so the listings work without a reset.
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb'
import { coordinationTable, dynamoClient, stageConfig, type TableDefinition } from '@meridian/aws'
import { bootstrapResources, createTableInput } from '@meridian/local'
import { describe, expect, it } from 'vitest'

describe('bootstrap over an existing coordination table', () => {
  it('adds the global indexes the table lacks and keeps the ones it has', async () => {
    const stage = `upgrade${Date.now().toString(36)}`
    const tableName = `${stageConfig.appName}-${stage}-${coordinationTable.resource}`
    const older: TableDefinition = {
      ...coordinationTable,
      fields: { pk: 'string', sk: 'string', gsi1pk: 'string', gsi1sk: 'string' },
      globalIndexes: { attention: coordinationTable.globalIndexes.attention },
    }
    const client = dynamoClient()
    await client.send(new CreateTableCommand(createTableInput(tableName, older)))

    await bootstrapResources({
      stage,
      region: stageConfig.homeRegion,
      endpoints: {
        dynamodbEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!,
        sqsEndpoint: process.env.AWS_ENDPOINT_URL_SQS!,
        s3Endpoint: process.env.AWS_ENDPOINT_URL_S3!,
      },
    })

    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }))
    const indexes = Object.fromEntries(
      (Table?.GlobalSecondaryIndexes ?? []).map((index) => [
        index.IndexName,
        index.KeySchema?.map((key) => key.AttributeName),
      ]),
    )
    expect(indexes).toEqual({
      attention: ['gsi1pk', 'gsi1sk'],
      tenantListing: ['gsi2pk', 'gsi2sk'],
    })
  })
})
