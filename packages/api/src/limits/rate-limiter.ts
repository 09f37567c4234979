// A rate limit per API key that holds across every Lambda instance: a fixed one-second
// window counted in the coordination table with one conditional ADD per request
// (pk `rate#<keyId>`, sk `<epochSecond>`, TTL a minute later). A full window refuses the
// write, and the request gets a 429 with Retry-After. The price is one small write per
// request; an in-memory bucket would be free but per instance, i.e. no limit at all under
// Lambda's scaling.
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'

export interface RateLimiter {
  /** Counts one request; false when the key's window is full. */
  tryConsume(keyId: string, nowMs: number): Promise<boolean>
}

export class DynamoRateLimiter implements RateLimiter {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    readonly requestsPerSecondMax: number,
  ) {}

  async tryConsume(keyId: string, nowMs: number): Promise<boolean> {
    const second = Math.floor(nowMs / 1000)
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: `rate#${keyId}` }, sk: { S: String(second) } },
          UpdateExpression: 'ADD #count :one SET expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :max',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: {
            ':one': { N: '1' },
            ':max': { N: String(this.requestsPerSecondMax) },
            ':expiresAt': { N: String(second + 60) },
          },
        }),
      )
      return true
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false
      throw error
    }
  }
}
