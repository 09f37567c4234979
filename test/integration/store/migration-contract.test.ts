import { UpdateItemCommand } from '@aws-sdk/client-dynamodb'
import { dynamoClient } from '@meridian/aws'
import { MemoryRegionalStore } from '@meridian/store'
import { migrationContract } from './migration-contract'
import { isolatedRegionalStores, regions } from './support'

// The DynamoDB adapter on a fresh table per case, and the double: the same expectations.
migrationContract('DynamoDB Local', async () => {
  const region = regions[0]!
  const store = (await isolatedRegionalStores([region]))[region]!
  return {
    store,
    stageIntent: async (storageKey, intent) => {
      await dynamoClient(region).send(
        new UpdateItemCommand({
          TableName: store.tableName,
          Key: { pk: { S: storageKey } },
          UpdateExpression: 'SET #intent = :intent',
          ExpressionAttributeNames: { '#intent': 'intent' },
          ExpressionAttributeValues: {
            ':intent': {
              M: {
                transactionId: { S: intent.transactionId },
                operation: { S: intent.operation },
                baseVersion: { N: String(intent.baseVersion) },
                preparedAtMs: { N: String(intent.preparedAtMs) },
              },
            },
          },
        }),
      )
    },
  }
})

migrationContract('in-memory double', async () => {
  const store = new MemoryRegionalStore()
  return { store, stageIntent: (storageKey, intent) => store.stageIntent(storageKey, intent) }
})
