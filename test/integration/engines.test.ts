// The local engines behave like the AWS services the packages rely on: conditional
// writes, TransactWriteItems, one namespace per region, SQS send/receive/delete and S3,
// all through the real AWS SDK and the same clients and Resource links the code uses.
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb'
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs'
import { dynamoClient, s3Client, sqsClient, stageConfig, storeTableResource } from '@meridian/aws'
import { Resource } from 'sst'
import { describe, expect, it } from 'vitest'

const linked = Resource as unknown as Record<string, { name: string; url: string }>
const coordination = () => linked.Coordination!.name
const unique = () => `${Date.now()}-${Math.random().toString(36).slice(2)}`

describe('DynamoDB Local', () => {
  it('rejects a conditional write whose condition fails and returns the current item', async () => {
    const pk = `engine-test#${unique()}`
    const put = (version: number, expected: number | undefined) =>
      dynamoClient().send(
        new PutItemCommand({
          TableName: coordination(),
          Item: { pk: { S: pk }, sk: { S: 'item' }, version: { N: String(version) } },
          ConditionExpression:
            expected === undefined ? 'attribute_not_exists(pk)' : '#version = :expected',
          ...(expected !== undefined && {
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':expected': { N: String(expected) } },
          }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
    await put(1, undefined)
    await put(2, 1)
    const failure = await put(3, 1).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(ConditionalCheckFailedException)
    expect((failure as ConditionalCheckFailedException).Item?.version).toEqual({ N: '2' })
  })

  it('applies a TransactWriteItems atomically and cancels it whole when one condition fails', async () => {
    const pk = `engine-test#${unique()}`
    const item = (sk: string) => ({ pk: { S: pk }, sk: { S: sk } })
    await dynamoClient().send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: coordination(), Item: { ...item('a'), n: { N: '1' } } } },
          { Put: { TableName: coordination(), Item: { ...item('b'), n: { N: '1' } } } },
        ],
      }),
    )
    const cancelled = await dynamoClient()
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: coordination(), Item: { ...item('c'), n: { N: '1' } } } },
            {
              ConditionCheck: {
                TableName: coordination(),
                Key: item('a'),
                ConditionExpression: 'n = :two',
                ExpressionAttributeValues: { ':two': { N: '2' } },
              },
            },
          ],
        }),
      )
      .catch((error: unknown) => error)
    expect(cancelled).toBeInstanceOf(TransactionCanceledException)
    expect(
      (cancelled as TransactionCanceledException).CancellationReasons?.map((r) => r.Code),
    ).toEqual(['None', 'ConditionalCheckFailed'])
    const c = await dynamoClient().send(
      new GetItemCommand({ TableName: coordination(), Key: item('c') }),
    )
    expect(c.Item).toBeUndefined()
  })

  it('keeps one namespace per region, so each regional store is its own table', async () => {
    const [first, second] = stageConfig.storeRegions
    const key = { pk: { S: `engine-test#${unique()}` } }
    const firstTable = linked[storeTableResource(first)]!.name
    await dynamoClient(first).send(new PutItemCommand({ TableName: firstTable, Item: key }))
    const here = await dynamoClient(first).send(
      new GetItemCommand({ TableName: firstTable, Key: key }),
    )
    expect(here.Item).toEqual(key)
    const secondTable = linked[storeTableResource(second)]!.name
    const there = await dynamoClient(second).send(
      new GetItemCommand({ TableName: secondTable, Key: key }),
    )
    expect(there.Item).toBeUndefined()
  })
})

describe('fauxqs', () => {
  it('sends, receives and deletes an SQS message on the linked queue', async () => {
    const queueUrl = linked.ReduceDeadLetterQueue!.url
    const body = `hello ${unique()}`
    await sqsClient().send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }))
    const received = await sqsClient().send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        WaitTimeSeconds: 2,
        MaxNumberOfMessages: 10,
      }),
    )
    const message = received.Messages?.find((candidate) => candidate.Body === body)
    expect(message).toBeDefined()
    await sqsClient().send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message!.ReceiptHandle }),
    )
    const attributes = await sqsClient().send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    )
    expect(attributes.Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    })
  })

  it('stores and returns an S3 object in the linked bucket', async () => {
    const key = `engine-test/${unique()}.txt`
    const bucket = linked.DataBucket!.name
    await s3Client().send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'line 1\nline 2\n' }),
    )
    const object = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    expect(await object.Body?.transformToString()).toBe('line 1\nline 2\n')
  })
})
