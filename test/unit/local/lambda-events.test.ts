import type { Message } from '@aws-sdk/client-sqs'
import { parseJavaMajorVersion, recordsToDelete, scheduledEvent, toSqsEvent } from '@meridian/local'
import { describe, expect, it } from 'vitest'

const arn = 'arn:aws:sqs:us-east-1:000000000000:q'

function message(id: string, body = 'x'): Message {
  return {
    MessageId: id,
    ReceiptHandle: `rh-${id}`,
    Body: body,
    MD5OfBody: 'md5',
    Attributes: {
      ApproximateReceiveCount: '2',
      SentTimestamp: '1700000000000',
      SenderId: 'AIDA',
      ApproximateFirstReceiveTimestamp: '1700000000001',
    },
    MessageAttributes: {
      correlationId: { DataType: 'String', StringValue: 'c-1' },
      blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
    },
  }
}

describe('toSqsEvent', () => {
  it('builds the record shape Lambda delivers, attributes and all', () => {
    const event = toSqsEvent([message('m1', 'hello')], arn, 'us-east-1')
    expect(event.Records).toEqual([
      {
        messageId: 'm1',
        receiptHandle: 'rh-m1',
        body: 'hello',
        attributes: {
          ApproximateReceiveCount: '2',
          SentTimestamp: '1700000000000',
          SenderId: 'AIDA',
          ApproximateFirstReceiveTimestamp: '1700000000001',
        },
        messageAttributes: {
          correlationId: {
            dataType: 'String',
            stringValue: 'c-1',
            stringListValues: [],
            binaryListValues: [],
          },
          blob: {
            dataType: 'Binary',
            binaryValue: 'AQID',
            stringListValues: [],
            binaryListValues: [],
          },
        },
        md5OfBody: 'md5',
        eventSource: 'aws:sqs',
        eventSourceARN: arn,
        awsRegion: 'us-east-1',
      },
    ])
  })
})

describe('recordsToDelete', () => {
  const records = toSqsEvent([message('a'), message('b'), message('c')], arn, 'us-east-1').Records
  const ids = (list: { messageId: string }[]) => list.map((record) => record.messageId)

  it('deletes nothing when the invocation failed', () => {
    expect(recordsToDelete(records, { ok: false })).toEqual([])
  })

  it('deletes every record on an empty or absent response', () => {
    for (const value of [undefined, null, {}, { batchItemFailures: [] }, 'done']) {
      expect(ids(recordsToDelete(records, { ok: true, value }))).toEqual(['a', 'b', 'c'])
    }
  })

  it('keeps only the reported failures', () => {
    const value = { batchItemFailures: [{ itemIdentifier: 'b' }] }
    expect(ids(recordsToDelete(records, { ok: true, value }))).toEqual(['a', 'c'])
  })

  it('fails the whole batch on an unknown or empty itemIdentifier, as Lambda does', () => {
    for (const itemIdentifier of ['zzz', '', null]) {
      const value = { batchItemFailures: [{ itemIdentifier: 'a' }, { itemIdentifier }] }
      expect(recordsToDelete(records, { ok: true, value })).toEqual([])
    }
  })
})

describe('scheduledEvent', () => {
  it('looks like an EventBridge scheduled rule event', () => {
    const event = scheduledEvent('Sweeper', 'eu-west-1', new Date('2026-01-02T03:04:05.678Z'))
    expect(event).toMatchObject({
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      time: '2026-01-02T03:04:05Z',
      region: 'eu-west-1',
      resources: ['arn:aws:events:eu-west-1:000000000000:rule/Sweeper'],
      detail: {},
    })
  })
})

describe('parseJavaMajorVersion', () => {
  it('reads modern and legacy version strings', () => {
    expect(parseJavaMajorVersion('openjdk version "17.0.15" 2025-04-15')).toBe(17)
    expect(parseJavaMajorVersion('java version "1.8.0_402"')).toBe(8)
    expect(parseJavaMajorVersion('openjdk version "21" 2023-09-19')).toBe(21)
    expect(parseJavaMajorVersion('command not found')).toBeUndefined()
  })
})
