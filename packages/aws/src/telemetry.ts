// Powertools for every function: metrics as CloudWatch embedded metric format (namespace
// Meridian), and the tracer, which captures the AWS SDK clients on Lambda and does nothing
// elsewhere (it turns itself off outside the Lambda runtime, so locally too). Metric names
// are a closed list, so dashboards and alarms can rely on them.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import { Tracer } from '@aws-lambda-powertools/tracer'

export const metricNames = [
  'LockAcquired',
  'LockContention',
  'TransactionCommitted',
  'TransactionAborted',
  'TransactionsInDoubt',
  'TransactionsRecovered',
  'JobSubmitted',
  'JobTaskProcessed',
  'JobTaskRetried',
  'JobTaskFailed',
  'JobTaskDeadLettered',
] as const
export type MetricName = (typeof metricNames)[number]

export const metrics = new Metrics({ namespace: 'Meridian', serviceName: 'meridian' })
export const tracer = new Tracer({ serviceName: 'meridian' })

export function countMetric(name: MetricName, value = 1): void {
  metrics.addMetric(name, MetricUnit.Count, value)
}

/** Flushes what an invocation counted; call once at its end (a no-op when nothing was). */
export function publishMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics()
}
