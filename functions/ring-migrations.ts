// Composition of ring migrations on AWS: range tasks on the RingMigrationQueue (SQS, with a
// DLQ), completions in the coordination table, the KV service's stores and ring cache.
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { coordinationTable, dynamoClient, ringMigrationQueue, sqsClient } from '@meridian/aws'
import { linkedName, linkedUrl } from '@meridian/aws/linked'
import {
  DynamoMigrationLog,
  DynamoRingConfigStore,
  type KvService,
  type MigrationQueue,
  type MigrationTask,
  RingMigrationService,
} from '@meridian/store'

/** Sends range tasks as SQS messages, ten per request (the SQS batch limit). */
export class SqsMigrationQueue implements MigrationQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(tasks: readonly MigrationTask[]): Promise<void> {
    for (let start = 0; start < tasks.length; start += 10) {
      const batch = tasks.slice(start, start + 10)
      const output = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((task, index) => ({
            Id: String(index),
            MessageBody: JSON.stringify(task),
          })),
        }),
      )
      // A task not sent is sent again by the sweeper; say so rather than fail the request.
      if (output.Failed?.length) {
        throw new Error(`${output.Failed.length} ring migration task(s) not sent`)
      }
    }
  }
}

/** Parses a task message; throws on anything that is not one. */
export function migrationTaskOf(body: string): MigrationTask {
  const task = JSON.parse(body) as MigrationTask
  const valid =
    Number.isInteger(task.ringVersion) &&
    typeof task.region === 'string' &&
    Number.isInteger(task.segment) &&
    Number.isInteger(task.segments)
  if (!valid) throw new Error(`not a ring migration task: ${body.slice(0, 200)}`)
  return task
}

export function ringMigrationService(kv: KvService): RingMigrationService {
  const tableName = linkedName(coordinationTable.resource)
  return new RingMigrationService({
    kv,
    ringStore: new DynamoRingConfigStore({ client: dynamoClient(), tableName }),
    log: new DynamoMigrationLog({ client: dynamoClient(), tableName }),
    queue: new SqsMigrationQueue(sqsClient(), linkedUrl(ringMigrationQueue.resource)),
  })
}
