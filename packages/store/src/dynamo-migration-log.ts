// The migration log in the coordination table: one item per completed range task
// (pk `ring-migration#<version>`, sk `task#<region>#<segment>`), created once by a
// conditional put, so a task delivered twice counts once.
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb'
import type { MigrationLog, MigrationTask, TaskCounts } from './ring-migration'

export interface DynamoMigrationLogOptions {
  client: DynamoDBClient
  /** The coordination table (Resource.Coordination.name). */
  tableName: string
  /** Prefix of the items' pk; tests give each ring its own. */
  prefix?: string
}

export class DynamoMigrationLog implements MigrationLog {
  private readonly options: DynamoMigrationLogOptions

  constructor(options: DynamoMigrationLogOptions) {
    this.options = options
  }

  async complete(task: MigrationTask, counts: TaskCounts): Promise<boolean> {
    try {
      await this.options.client.send(
        new PutItemCommand({
          TableName: this.options.tableName,
          Item: {
            pk: { S: this.pk(task.ringVersion) },
            sk: { S: `task#${task.region}#${task.segment}` },
            region: { S: task.region },
            segment: { N: String(task.segment) },
            segments: { N: String(task.segments) },
            scanned: { N: String(counts.scanned) },
            moved: { N: String(counts.moved) },
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      return true
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false
      throw error
    }
  }

  async completed(ringVersion: number): Promise<Array<MigrationTask & TaskCounts>> {
    const tasks: Array<MigrationTask & TaskCounts> = []
    let startKey: QueryCommand['input']['ExclusiveStartKey']
    do {
      const output = await this.options.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: this.pk(ringVersion) } },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      )
      for (const item of output.Items ?? []) {
        tasks.push({
          ringVersion,
          region: item.region?.S ?? '',
          segment: Number(item.segment?.N),
          segments: Number(item.segments?.N),
          scanned: Number(item.scanned?.N ?? 0),
          moved: Number(item.moved?.N ?? 0),
        })
      }
      startKey = output.LastEvaluatedKey
    } while (startKey)
    return tasks
  }

  private pk(ringVersion: number): string {
    return `${this.options.prefix ?? 'ring-migration'}#${ringVersion}`
  }
}
