// Running-job slots on the coordination table: pk `mapreduce-slots#<tenant>`, sk
// `slot#<index>`, holding the job id and when it was claimed. One partition per tenant, at
// most the limit's number of items, listed with one strongly consistent query.
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb'
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb'
import type { JobSlotStore, SlotClaim } from './running-job-limit'

const slotPartition = (tenant: string) => `mapreduce-slots#${tenant}`
const slotSortKey = (index: number) => `slot#${String(index).padStart(4, '0')}`

export class DynamoDbJobSlotStore implements JobSlotStore {
  private readonly client: DynamoDBDocumentClient

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.client = DynamoDBDocumentClient.from(client)
  }

  async list(tenant: string): Promise<SlotClaim[]> {
    const claims: SlotClaim[] = []
    let startKey: Record<string, unknown> | undefined
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': slotPartition(tenant) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      )
      for (const item of page.Items ?? []) {
        claims.push({
          index: item.slotIndex as number,
          jobId: item.jobId as string,
          claimedAtMs: item.claimedAtMs as number,
        })
      }
      startKey = page.LastEvaluatedKey
    } while (startKey)
    return claims
  }

  async claim(tenant: string, claim: SlotClaim, replacing?: string): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: slotPartition(tenant),
            sk: slotSortKey(claim.index),
            slotIndex: claim.index,
            jobId: claim.jobId,
            claimedAtMs: claim.claimedAtMs,
          },
          ...(replacing === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: 'jobId = :holder',
                ExpressionAttributeValues: { ':holder': replacing },
              }),
        }),
      )
      return true
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false
      throw error
    }
  }

  async release(tenant: string, index: number, jobId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: slotPartition(tenant), sk: slotSortKey(index) },
          ConditionExpression: 'jobId = :jobId',
          ExpressionAttributeValues: { ':jobId': jobId },
        }),
      )
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error
    }
  }
}
