// Scheduled recovery of transactions: one bounded sweep over the records the sparse
// `attention` index lists as due (a query, never a scan). Each is decided if its
// coordinator's lease ran out, its intents applied or discarded, and, once past its late-
// write grace, taken out of the index. Runs on the schedule in packages/aws wiring.
import { Logger } from '@aws-lambda-powertools/logger'
import { countMetric, publishMetrics } from '@meridian/aws'
import type { TransactionRecord } from '@meridian/txn'
import { transactionService } from './txn-service'

const logger = new Logger({ serviceName: 'meridian-txn-recovery' })
const service = transactionService()

// Each line names the transaction and the correlation id of the request that started it, so
// a transaction finished here can be followed from the API's request log.
const transactionFields = (record: TransactionRecord) => ({
  id: record.id,
  tenant: record.tenant,
  ...(record.correlationId !== undefined && { correlationId: record.correlationId }),
})

export async function handler() {
  const result = await service.sweep(undefined, {
    visited: (record, cleared) =>
      logger.info('transaction visited', {
        ...transactionFields(record),
        state: record.state,
        leftAttentionIndex: cleared,
      }),
    failed: (error, record) =>
      logger.error('could not finish transaction', {
        ...transactionFields(record),
        error: error as Error,
      }),
  })
  logger.info('transaction sweep', { ...result })
  // In doubt: due records this pass could not finish yet; recovered: those it cleared.
  countMetric('TransactionsInDoubt', result.inProgress + result.failed)
  countMetric('TransactionsRecovered', result.cleared)
  publishMetrics()
  return result
}
