// Pure builders of the event shapes Lambda hands to handlers, so a handler can't tell the
// local runtime from AWS. Shapes follow what Lambda sends (see @types/aws-lambda).
import type { Message } from '@aws-sdk/client-sqs'
import type { ScheduledEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda'

export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const system = message.Attributes ?? {}
  const messageAttributes: SQSRecord['messageAttributes'] = {}
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
      ...(value.BinaryValue !== undefined && {
        binaryValue: Buffer.from(value.BinaryValue).toString('base64'),
      }),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((item) =>
        Buffer.from(item).toString('base64'),
      ),
    }
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: system.ApproximateReceiveCount ?? '1',
      SentTimestamp: system.SentTimestamp ?? String(Date.now()),
      SenderId: system.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp:
        system.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(system.MessageGroupId && { MessageGroupId: system.MessageGroupId }),
      ...(system.MessageDeduplicationId && {
        MessageDeduplicationId: system.MessageDeduplicationId,
      }),
      ...(system.SequenceNumber && { SequenceNumber: system.SequenceNumber }),
      ...(system.AWSTraceHeader && { AWSTraceHeader: system.AWSTraceHeader }),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes && {
      md5OfMessageAttributes: message.MD5OfMessageAttributes,
    }),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  }
}

export function toSqsEvent(messages: Message[], queueArn: string, region: string): SQSEvent {
  return { Records: messages.map((message) => toSqsRecord(message, queueArn, region)) }
}

/**
 * Which records of a batch to delete, given what the handler did, with
 * ReportBatchItemFailures on (as every Meridian subscriber has it):
 * - it threw or timed out: none; every record returns after the visibility timeout;
 * - it returned `batchItemFailures`: all but those; an entry with an empty or unknown
 *   `itemIdentifier` fails the whole batch, as Lambda does;
 * - it returned anything else (undefined, null, an empty list): all.
 */
export function recordsToDelete(
  records: SQSRecord[],
  outcome: { ok: true; value: unknown } | { ok: false },
): SQSRecord[] {
  if (!outcome.ok) return []
  const failures = (outcome.value as Partial<SQSBatchResponse> | null | undefined)
    ?.batchItemFailures
  if (!Array.isArray(failures) || failures.length === 0) return records
  const ids = new Set(records.map((record) => record.messageId))
  const failed = new Set<string>()
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier
    if (typeof id !== 'string' || !ids.has(id)) return []
    failed.add(id)
  }
  return records.filter((record) => !failed.has(record.messageId))
}

export function scheduledEvent(ruleName: string, region: string, now = new Date()): ScheduledEvent {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [`arn:aws:events:${region}:000000000000:rule/${ruleName}`],
    detail: {},
  }
}
