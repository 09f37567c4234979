// Lambda entry for map tasks: an SQS batch in, a partial batch response out. Each record
// is one task; a failed record returns to the queue after its visibility timeout and goes
// to the dead-letter queue after maxReceiveCount receives (the job is failed first).
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch'
import { mapQueue } from '@meridian/aws'
import type { JobService } from '@meridian/mapreduce'
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda'
import { mapReduceService } from './mapreduce-service'

export function taskWorkerHandler(service: () => JobService, attemptsMax: number) {
  const processor = new BatchProcessor(EventType.SQS)
  return (event: SQSEvent, context: Context) =>
    processPartialResponse(
      event,
      async (record: SQSRecord) => {
        await service().handleTaskMessage({
          body: record.body,
          receiveCount: Number(record.attributes.ApproximateReceiveCount),
          attemptsMax,
        })
      },
      processor,
      { context, throwOnFullBatchFailure: false },
    )
}

let service: JobService | undefined
const lazyService = () => {
  service ??= mapReduceService()
  return service
}

export const handler = taskWorkerHandler(lazyService, mapQueue.deadLetter.maxReceiveCount)
