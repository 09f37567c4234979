// The local SQS event source mapping against fauxqs: records reach the handler as a real
// SQSEvent, succeeded records are deleted, a partial batch failure redelivers only the
// failed record, and a record that keeps failing lands in the dead-letter queue after
// maxReceiveCount receives. Each test uses its own queue pair with a 1 s visibility timeout.
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs'
import { sqsClient } from '@meridian/aws'
import {
  createOrUpdateQueue,
  type InvocationOutcome,
  repositoryRoot,
  SqsPoller,
  WorkerPool,
} from '@meridian/local'
import type { SQSEvent } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const maxReceiveCount = 2
let pool: WorkerPool

beforeAll(() => {
  pool = new WorkerPool({ rootDirectory: repositoryRoot, size: 2 })
})
afterAll(() => pool.close())

interface Invocation {
  event: SQSEvent
  outcome: InvocationOutcome
}

async function queuePair() {
  const name = `poller-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`
  const deadLetter = await createOrUpdateQueue(sqsClient(), `${name}-dlq`, {})
  const queue = await createOrUpdateQueue(sqsClient(), name, {
    VisibilityTimeout: '1',
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetter.arn, maxReceiveCount }),
  })
  return { queue, deadLetter }
}

async function runPoller(
  queue: { url: string; arn: string },
  bodies: string[],
  until: (log: Invocation[]) => boolean,
) {
  await sqsClient().send(
    new SendMessageBatchCommand({
      QueueUrl: queue.url,
      Entries: bodies.map((body, index) => ({
        Id: String(index),
        MessageBody: body,
        MessageAttributes: { correlationId: { DataType: 'String', StringValue: `c-${index}` } },
      })),
    }),
  )
  const log: Invocation[] = []
  const poller = new SqsPoller({
    sqs: sqsClient(),
    queueUrl: queue.url,
    queueArn: queue.arn,
    region: 'us-east-1',
    handler: 'test/fixtures/handlers.sqsBatch',
    batchSize: 10,
    maximumConcurrency: 1,
    waitTimeSeconds: 1,
    invocation: { functionName: 'sqsBatch', timeoutMs: 10_000 },
    invoke: async (handler, event, options) => {
      const outcome = await pool.invoke(handler, event, options)
      log.push({ event: event as SQSEvent, outcome })
      return outcome
    },
  })
  poller.start()
  const deadline = Date.now() + 20_000
  while (!until(log) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50))
  await poller.stop()
  return log
}

async function depth(url: string) {
  const { Attributes } = await sqsClient().send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  )
  return (
    Number(Attributes?.ApproximateNumberOfMessages) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible)
  )
}

const bodiesOf = (invocation: Invocation) =>
  invocation.event.Records.map((record) => record.body).sort()

describe('SqsPoller (local SQS event source mapping)', () => {
  it('hands the handler a real SQSEvent and deletes the records it processed', async () => {
    const { queue } = await queuePair()
    const log = await runPoller(
      queue,
      ['ok', 'ok', 'ok'],
      (entries) => entries.reduce((sum, entry) => sum + entry.event.Records.length, 0) >= 3,
    )
    const record = log[0]!.event.Records[0]!
    expect(record).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: 'us-east-1',
      body: 'ok',
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: {
        correlationId: { dataType: 'String', stringValue: expect.stringMatching(/^c-/) },
      },
    })
    expect(log.every((entry) => entry.outcome.ok)).toBe(true)
    expect(await depth(queue.url)).toBe(0)
  })

  it('redelivers only the record a partial batch response reports as failed', async () => {
    const { queue } = await queuePair()
    const log = await runPoller(queue, ['ok', 'bad', 'ok'], (entries) => entries.length >= 2)
    expect(bodiesOf(log[0]!)).toEqual(['bad', 'ok', 'ok'])
    expect(bodiesOf(log[1]!)).toEqual(['bad'])
    expect(log[1]!.event.Records[0]!.attributes.ApproximateReceiveCount).toBe('2')
  })

  it('redelivers a record whose invocation throws, then moves it to the dead-letter queue', async () => {
    const { queue, deadLetter } = await queuePair()
    const log = await runPoller(queue, ['throw'], (entries) => entries.length >= maxReceiveCount)
    expect(log.map((entry) => entry.event.Records[0]!.attributes.ApproximateReceiveCount)).toEqual([
      '1',
      '2',
    ])
    expect(log.every((entry) => !entry.outcome.ok)).toBe(true)
    // SQS moves a record to the DLQ when a receive would exceed maxReceiveCount.
    const third = await sqsClient().send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 2 }),
    )
    expect(third.Messages ?? []).toEqual([])
    const redriven = await sqsClient().send(
      new ReceiveMessageCommand({
        QueueUrl: deadLetter.url,
        WaitTimeSeconds: 5,
        MaxNumberOfMessages: 10,
      }),
    )
    expect(redriven.Messages?.map((message) => message.Body)).toEqual(['throw'])
  })

  it('treats an unknown itemIdentifier as a failure of the whole batch', async () => {
    const { queue } = await queuePair()
    const log = await runPoller(queue, ['ok', 'malformed'], (entries) => entries.length >= 2)
    expect(bodiesOf(log[1]!)).toEqual(['malformed', 'ok'])
  })
})
