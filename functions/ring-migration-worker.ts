// Lambda entries for ring migrations: `handler` runs range tasks from the
// RingMigrationQueue (one per invocation; a failed task returns to the queue after its
// visibility timeout, to the DLQ after maxReceiveCount receives, and the sweeper re-sends
// a task whose completion is never recorded); `sweep` runs on a schedule and continues a
// stalled migration (packages/store/src/ring-migration.ts); `redrive` is the local
// runtime's restart step.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch'
import { Logger } from '@aws-lambda-powertools/logger'
import { countMetric, publishMetrics } from '@meridian/aws'
import type { RingMigrationService } from '@meridian/store'
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda'
import { migrationTaskOf, ringMigrationService } from './ring-migrations'
import { storeServices } from './store-services'

const logger = new Logger({ serviceName: 'meridian-ring-migration' })

let service: RingMigrationService | undefined
const migrations = () => {
  service ??= ringMigrationService(storeServices().kv)
  return service
}

const processor = new BatchProcessor(EventType.SQS)

const processRecord = async (record: SQSRecord) => {
  const task = migrationTaskOf(record.body)
  try {
    const counts = await migrations().run(task)
    countMetric(counts ? 'RingRangeMoved' : 'RingRangeStale')
    logger.info('range task', { ...task, ...(counts ?? { stale: true }) })
  } catch (error) {
    countMetric('RingRangeFailed')
    logger.warn('range task failed', { ...task, error: error as Error })
    throw error
  }
}

export async function handler(event: SQSEvent, context: Context) {
  try {
    return await processPartialResponse(event, processRecord, processor, {
      context,
      throwOnFullBatchFailure: false,
    })
  } finally {
    publishMetrics()
  }
}

/**
 * Re-sends every unrecorded task of a running migration at once, whatever its age: the
 * local runtime calls it at start, because its queues lose their messages on a restart.
 */
export async function redrive() {
  const status = await migrations().sweep({ resend: true })
  return { state: status.state, version: status.version }
}

export async function sweep() {
  try {
    const status = await migrations().sweep()
    if (status.migration) logger.info('ring migration', { ...status.migration })
    return { state: status.state, version: status.version }
  } finally {
    publishMetrics()
  }
}
