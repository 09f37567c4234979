// A correlation id follows one piece of work across the API, the SQS tasks it fans out and
// the recovery that may finish it: the API takes it from `x-correlation-id` (or uses the
// request id), senders attach it to every SQS message as a message attribute, workers
// restore it from the record, and every log line carries it.
import { AsyncLocalStorage } from 'node:async_hooks'
import type { MessageAttributeValue } from '@aws-sdk/client-sqs'

export const correlationHeader = 'x-correlation-id'
export const correlationAttribute = 'correlationId'
const correlationIdPattern = /^[A-Za-z0-9._:-]{1,128}$/

const storage = new AsyncLocalStorage<string>()

export function runWithCorrelationId<T>(correlationId: string, work: () => T): T {
  return storage.run(correlationId, work)
}

export function currentCorrelationId(): string | undefined {
  return storage.getStore()
}

/** A client-supplied id is used only when it is a plain token (it ends up in logs). */
export function acceptableCorrelationId(candidate: string | undefined): string | undefined {
  return candidate && correlationIdPattern.test(candidate) ? candidate : undefined
}

/** The message attribute that carries the current correlation id, if any. */
export function correlationMessageAttributes(): Record<string, MessageAttributeValue> {
  const correlationId = currentCorrelationId()
  return correlationId
    ? { [correlationAttribute]: { DataType: 'String', StringValue: correlationId } }
    : {}
}
