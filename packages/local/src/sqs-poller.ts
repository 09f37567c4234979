// Emulates Lambda's SQS event source mapping for one queue → handler subscription:
// up to `maximumConcurrency` pollers each long-poll for a batch of up to `batchSize`
// messages, invoke the handler with a real SQSEvent, and delete what succeeded. Nothing
// here retries: a failed record is left alone and SQS makes it visible again after the
// visibility timeout, counts the receive, and moves it to the dead-letter queue after
// maxReceiveCount receives (the queue's RedrivePolicy), exactly as on AWS.

import { setTimeout as delay } from 'node:timers/promises'
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import { queueSubscriptions } from '@meridian/aws'
import type { SQSRecord } from 'aws-lambda'
import { recordsToDelete, toSqsEvent } from './lambda-events'
import type { LocalResources } from './local-resources'
import type { InvocationOptions, InvocationOutcome } from './worker-pool'

export interface SqsPollerOptions {
  sqs: SQSClient
  queueUrl: string
  queueArn: string
  region: string
  handler: string
  batchSize: number
  maximumConcurrency: number
  invocation: InvocationOptions
  invoke: (
    handler: string,
    event: unknown,
    options: InvocationOptions,
  ) => Promise<InvocationOutcome>
  /** Long-poll wait; Lambda uses 20 s. */
  waitTimeSeconds?: number
  onInvocationError?: (
    error: { name: string; message: string },
    records: SQSRecord[],
    handler: string,
  ) => void
}

export class SqsPoller {
  private readonly abort = new AbortController()
  private loops: Promise<void>[] = []

  constructor(private readonly options: SqsPollerOptions) {
    if (options.batchSize < 1 || options.batchSize > 10) {
      throw new RangeError(`batchSize must be 1–10, got ${options.batchSize}`)
    }
  }

  start(): void {
    const concurrency = Math.max(1, this.options.maximumConcurrency)
    this.loops = Array.from({ length: concurrency }, () => this.pollLoop())
  }

  /** Stops receiving; batches already handed to the handler finish first. */
  async stop(): Promise<void> {
    this.abort.abort()
    await Promise.all(this.loops)
  }

  private async pollLoop(): Promise<void> {
    const signal = this.abort.signal
    while (!signal.aborted) {
      let messages: Message[]
      try {
        messages = await this.receive(signal)
      } catch {
        if (signal.aborted) return
        // The engine hiccuped; back off briefly rather than spin.
        await sleep(500, signal)
        continue
      }
      if (messages.length > 0) await this.deliver(messages)
    }
  }

  private async receive(signal: AbortSignal): Promise<Message[]> {
    const { sqs, queueUrl, batchSize, waitTimeSeconds = 20 } = this.options
    const response = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: batchSize,
        WaitTimeSeconds: waitTimeSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: signal },
    )
    return response.Messages ?? []
  }

  private async deliver(messages: Message[]): Promise<void> {
    const { queueArn, region, handler, invocation } = this.options
    const event = toSqsEvent(messages, queueArn, region)
    const outcome = await this.options.invoke(handler, event, invocation)
    if (!outcome.ok) this.options.onInvocationError?.(outcome.error, event.Records, handler)
    const done = recordsToDelete(event.Records, outcome)
    if (done.length > 0) await this.delete(done)
  }

  private async delete(records: SQSRecord[]): Promise<void> {
    const response = await this.options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.options.queueUrl,
        Entries: records.map((record, index) => ({
          Id: String(index),
          ReceiptHandle: record.receiptHandle,
        })),
      }),
    )
    // A failed delete means the record runs again: acceptable under at-least-once.
    for (const failed of response.Failed ?? []) {
      this.options.onInvocationError?.(
        { name: 'DeleteFailed', message: failed.Message ?? failed.Code ?? 'delete failed' },
        [],
        this.options.handler,
      )
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => undefined)
}

/**
 * One poller per queue subscription wired in packages/aws (wiring.ts), with that
 * subscription's batch size and timeout, as Lambda's event source mappings. Concurrency is
 * the local machine's (one per invocation thread), not the AWS stage's.
 */
export function subscriptionPollers(
  resources: Pick<LocalResources, 'queues' | 'region'>,
  options: Pick<
    SqsPollerOptions,
    'sqs' | 'invoke' | 'waitTimeSeconds' | 'onInvocationError' | 'maximumConcurrency'
  >,
): SqsPoller[] {
  return queueSubscriptions.map((subscription) => {
    const queue = resources.queues.get(subscription.queue.resource)
    if (!queue) throw new Error(`queue ${subscription.queue.resource} was not created`)
    return new SqsPoller({
      ...options,
      queueUrl: queue.url,
      queueArn: queue.arn,
      region: resources.region,
      handler: subscription.handler,
      batchSize: subscription.batchSize,
      invocation: {
        functionName: subscription.handler,
        timeoutMs: subscription.timeoutSeconds * 1000,
      },
    })
  })
}
