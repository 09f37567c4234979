// Composition of ring migrations on AWS: range tasks on the RingMigrationQueue (SQS, with a
// DLQ), completions in the coordination table, the KV service's stores and ring cache. The
// same queue carries anti-entropy's repair tasks (functions/ring-migration-worker.ts).
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs'
import {
  coordinationTable,
  dynamoClient,
  ringMigrationQueue,
  settings,
  sqsClient,
} from '@meridian/aws'
import { linkedName, linkedUrl } from '@meridian/aws/linked'
import {
  DynamoMigrationLog,
  DynamoRingConfigStore,
  type KvService,
  type MigrationQueue,
  type MigrationTask,
  type RepairTask,
  RingMigrationService,
} from '@meridian/store'

/**
 * A message on the range-task queue: a ring migration's task, or an anti-entropy round's
 * (`kind: 'repair'`). Both are Scan segments of the store tables, run by the same worker.
 */
export type RangeTask = MigrationTask | RepairTask

/** Sends range tasks as SQS messages, ten per request (the SQS batch limit). */
export class SqsMigrationQueue implements MigrationQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(tasks: readonly RangeTask[]): Promise<void> {
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
export function rangeTaskOf(body: string): RangeTask {
  const parsed = JSON.parse(body) as RangeTask
  if ('kind' in parsed && parsed.kind === 'repair') {
    const valid =
      typeof parsed.region === 'string' &&
      Number.isInteger(parsed.segment) &&
      Number.isInteger(parsed.segments)
    if (valid) return parsed
    throw new Error(`not a repair task: ${body.slice(0, 200)}`)
  }
  const task = parsed as MigrationTask
  const valid =
    Number.isInteger(task.ringVersion) &&
    typeof task.region === 'string' &&
    Number.isInteger(task.segment) &&
    Number.isInteger(task.segments)
  if (!valid) throw new Error(`not a ring migration task: ${body.slice(0, 200)}`)
  return task
}

export function rangeTaskQueue(): SqsMigrationQueue {
  return new SqsMigrationQueue(sqsClient(), linkedUrl(ringMigrationQueue.resource))
}

export function ringMigrationService(kv: KvService): RingMigrationService {
  const tableName = linkedName(coordinationTable.resource)
  const keysPerSecond = settings().MERIDIAN_MIGRATION_KEYS_PER_SECOND
  return new RingMigrationService({
    kv,
    ringStore: new DynamoRingConfigStore({ client: dynamoClient(), tableName }),
    log: new DynamoMigrationLog({ client: dynamoClient(), tableName }),
    queue: rangeTaskQueue(),
    // Rate bounds on each range task (settings.ts): batches in flight, keys per second.
    concurrency: settings().MERIDIAN_MIGRATION_CONCURRENCY,
    ...(keysPerSecond !== undefined && { keysPerSecond }),
  })
}
