// Which handler in functions/ consumes which queue and which runs on a schedule. Infra
// turns these into queue subscribers and crons; the local runtime into SQS pollers and
// timers. Later features append their entries here, so the two can't drift.
import type { QueueDefinition } from './resources'

export interface QueueSubscription {
  queue: QueueDefinition
  /** `functions/<file>.<export>`, as SST's `handler` takes it. */
  handler: string
  /** Records per invocation (SQS allows 1–10 without a batching window). */
  batchSize: number
  /** Concurrent invocations for this queue (SQS event source `maximumConcurrency`). */
  maximumConcurrency: number
  /** The function timeout; the queue's visibility timeout must be at least 6× this. */
  timeoutSeconds: number
}

export interface Schedule {
  name: string
  handler: string
  /** Period between runs; infra renders it as `rate(N minutes)`. */
  everySeconds: number
  timeoutSeconds: number
}

export const queueSubscriptions: QueueSubscription[] = []

export const schedules: Schedule[] = []
