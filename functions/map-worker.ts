// Lambda entry for map tasks: an SQS batch in, a partial batch response out. Each record
// is one task; a failed record returns to the queue after its visibility timeout and goes
// to the dead-letter queue after maxReceiveCount receives (the job is failed first).
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch'
import { Logger } from '@aws-lambda-powertools/logger'
import {
  correlationAttribute,
  countMetric,
  mapQueue,
  publishMetrics,
  runWithCorrelationId,
} from '@meridian/aws'
import type { JobService } from '@meridian/mapreduce'
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda'
import { mapReduceService } from './mapreduce-service'

const logger = new Logger({ serviceName: 'meridian-task-worker' })

export function taskWorkerHandler(service: () => JobService, attemptsMax: number) {
  const processor = new BatchProcessor(EventType.SQS)
  // Each record runs under the correlation id of the request that fanned it out, so the
  // tasks it enqueues in turn and every log line carry it.
  const processRecord = async (record: SQSRecord) => {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount)
    const correlationId =
      record.messageAttributes[correlationAttribute]?.stringValue ?? record.messageId
    await runWithCorrelationId(correlationId, async () => {
      if (receiveCount > 1) countMetric('JobTaskRetried')
      try {
        await service().handleTaskMessage({ body: record.body, receiveCount, attemptsMax })
        countMetric('JobTaskProcessed')
      } catch (error) {
        countMetric(receiveCount >= attemptsMax ? 'JobTaskDeadLettered' : 'JobTaskFailed')
        logger.warn('task failed', { correlationId, receiveCount, error: error as Error })
        throw error
      }
    })
  }
  return async (event: SQSEvent, context: Context) => {
    try {
      return await processPartialResponse(event, processRecord, processor, {
        context,
        throwOnFullBatchFailure: false,
      })
    } finally {
      publishMetrics()
    }
  }
}

let service: JobService | undefined
const lazyService = () => {
  service ??= mapReduceService()
  return service
}

export const handler = taskWorkerHandler(lazyService, mapQueue.deadLetter.maxReceiveCount)
