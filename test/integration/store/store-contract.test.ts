import { UpdateItemCommand } from '@aws-sdk/client-dynamodb'
import { dynamoClient } from '@meridian/aws'
import type { Intent } from '@meridian/store'
import { storeContract } from './store-contract'
import { regionalStore, regions, tableName } from './support'

// The intent's layout is item-format.ts's `intent` map, written as the transactions package
// stages it: one conditional write that requires no intent to be present yet.
async function stageIntentInDynamo(region: string, storageKey: string, intent: Intent) {
  await dynamoClient(region).send(
    new UpdateItemCommand({
      TableName: tableName(region),
      Key: { pk: { S: storageKey } },
      UpdateExpression: 'SET #intent = :intent',
      ConditionExpression: 'attribute_not_exists(#intent)',
      ExpressionAttributeNames: { '#intent': 'intent' },
      ExpressionAttributeValues: {
        ':intent': {
          M: {
            transactionId: { S: intent.transactionId },
            operation: { S: intent.operation },
            ...(intent.value && { value: { B: intent.value } }),
            ...(intent.contentType && { contentType: { S: intent.contentType } }),
            baseVersion: { N: String(intent.baseVersion) },
            preparedAtMs: { N: String(intent.preparedAtMs) },
          },
        },
      },
    }),
  )
}

const region = regions[1]!
storeContract(`DynamoDB (${region})`, () => ({
  store: regionalStore(region),
  stageIntent: (storageKey, intent) => stageIntentInDynamo(region, storageKey, intent),
}))
