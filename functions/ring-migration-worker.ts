// Lambda entries for range tasks: `handler` runs tasks from the RingMigrationQueue (one
// per invocation; a failed task returns to the queue after its visibility timeout, to the
// DLQ after maxReceiveCount receives): a ring migration's (the sweeper re-sends one whose
// completion is never recorded) or an anti-entropy round's (a lost one is covered by the
// next round). `sweep` runs on a schedule and continues a stalled migration
// (packages/store/src/ring-migration.ts); `repair` runs on a schedule and sends a round of
// anti-entropy tasks when keys are replicated (packages/store/src/anti-entropy.ts);
// `redrive` is the local runtime's restart step.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch'
import { Logger } from '@aws-lambda-powertools/logger'
import { countMetric, publishMetrics } from '@meridian/aws'
import { AntiEntropy, type RingMigrationService } from '@meridian/store'
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda'
import { rangeTaskOf, rangeTaskQueue, ringMigrationService } from './ring-migrations'
import { storeServices } from './store-services'

const logger = new Logger({ serviceName: 'meridian-ring-migration' })

let services: ReturnType<typeof storeServices> | undefined
const kv = () => {
  services ??= storeServices()
  return services.kv
}
let service: RingMigrationService | undefined
let antiEntropy: AntiEntropy | undefined
const migrations = () => {
  service ??= ringMigrationService(kv())
  return service
}
const repairs = () => {
  antiEntropy ??= new AntiEntropy({
    kv: kv(),
    onRepair: (_region, keys) => countMetric('KeysRepaired', keys),
  })
  return antiEntropy
}

const processor = new BatchProcessor(EventType.SQS)

const processRecord = async (record: SQSRecord) => {
  const task = rangeTaskOf(record.body)
  if ('kind' in task) {
    try {
      const counts = await repairs().run(task)
      logger.info('repair task', { ...task, ...counts })
      // Keys whose repair failed are tried again by the next round; say so in the metric.
      if (counts.failed > 0) countMetric('RepairRangeFailed')
    } catch (error) {
      countMetric('RepairRangeFailed')
      logger.warn('repair task failed', { ...task, error: error as Error })
      throw error
    }
    return
  }
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

/** Sends one anti-entropy round (every range of every table) when keys are replicated. */
export async function repair() {
  try {
    if (kv().replication.replicas < 2) return { sent: 0 }
    const tasks = repairs().tasks()
    await rangeTaskQueue().send(tasks)
    return { sent: tasks.length }
  } finally {
    publishMetrics()
  }
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
