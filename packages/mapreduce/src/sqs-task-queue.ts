// The task queue on SQS: map tasks to the map queue, reduce tasks to the reduce queue,
// SendMessageBatch in batches of ten, failed entries retried with backoff a bounded
// number of times. Bodies are task references; the task reads its manifest from S3.
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { correlationMessageAttributes } from '@meridian/aws'
import { MapReduceError } from './errors'
import { Stage, type TaskRef, taskId } from './job-model'
import type { TaskQueue } from './ports'

const entriesPerBatchMax = 10
const sendAttemptsMax = 5
const backoffBaseMs = 50

export class SqsTaskQueue implements TaskQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrls: { map: string; reduce: string },
  ) {}

  async send(tasks: readonly TaskRef[]): Promise<number> {
    let requests = 0
    const batches: TaskRef[][] = []
    for (let index = 0; index < tasks.length; index += entriesPerBatchMax) {
      batches.push(tasks.slice(index, index + entriesPerBatchMax))
    }
    await Promise.all(
      batches.map(async (batch) => {
        requests += await this.sendBatch(batch)
      }),
    )
    return requests
  }

  private async sendBatch(batch: readonly TaskRef[]): Promise<number> {
    let pending = batch.map((task, index) => ({ id: String(index), task }))
    for (let attempt = 1; ; attempt++) {
      const queueUrl = this.queueUrls[pending[0]!.task.stage === Stage.map ? 'map' : 'reduce']
      const response = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          // The correlation id of the request (or task) that fanned these out travels along.
          Entries: pending.map(({ id, task }) => ({
            Id: id,
            MessageBody: encodeTask(task),
            MessageAttributes: correlationMessageAttributes(),
          })),
        }),
      )
      const failed = new Set((response.Failed ?? []).map((entry) => entry.Id))
      pending = pending.filter((entry) => failed.has(entry.id))
      if (pending.length === 0) return attempt
      if (attempt >= sendAttemptsMax) {
        throw new MapReduceError(
          `SQS refused ${pending.map((entry) => taskId(entry.task)).join(', ')} after ${attempt} attempts`,
        )
      }
      await new Promise((resolve) => setTimeout(resolve, backoffBaseMs * 2 ** attempt))
    }
  }
}

export function encodeTask(task: TaskRef): string {
  return JSON.stringify({ v: 1, ...task })
}
