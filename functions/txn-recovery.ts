// Scheduled recovery of transactions: one bounded sweep over the records the sparse
// `attention` index lists as due (a query, never a scan). Each is decided if its
// coordinator's lease ran out, its intents applied or discarded, and, once past its late-
// write grace, taken out of the index. Runs on the schedule in packages/aws wiring.
import { Logger } from '@aws-lambda-powertools/logger'
import { countMetric, publishMetrics } from '@meridian/aws'
import { transactionService } from './txn-service'

const logger = new Logger({ serviceName: 'meridian-txn-recovery' })
const service = transactionService()

export async function handler() {
  const result = await service.sweep(undefined, (error, record) =>
    logger.error('could not finish transaction', {
      id: record.id,
      tenant: record.tenant,
      error: error as Error,
    }),
  )
  logger.info('transaction sweep', { ...result })
  // In doubt: due records this pass could not finish yet; recovered: those it cleared.
  countMetric('TransactionsInDoubt', result.inProgress + result.failed)
  countMetric('TransactionsRecovered', result.cleared)
  publishMetrics()
  return result
}
