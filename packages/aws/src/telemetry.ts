// Powertools for every function: metrics as CloudWatch embedded metric format (namespace
// Meridian). Metric names are a closed list, so dashboards and alarms can rely on them.
// No tracer: no function enables X-Ray active tracing, and Powertools' tracer loaded the
// X-Ray SDK (and its async hooks) into every bundle to produce no traces. Requests are
// followed by their correlation id in the logs instead.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'

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
  'RingRangeMoved',
  'RingRangeStale',
  'RingRangeFailed',
  'RegionSuspected',
  'RegionTrusted',
  'KeysRepaired',
  'RepairRangeFailed',
] as const
export type MetricName = (typeof metricNames)[number]

export const metrics = new Metrics({ namespace: 'Meridian', serviceName: 'meridian' })

export function countMetric(name: MetricName, value = 1): void {
  metrics.addMetric(name, MetricUnit.Count, value)
}

/** Flushes what an invocation counted; call once at its end (a no-op when nothing was). */
export function publishMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics()
}
