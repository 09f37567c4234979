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

/** A handler that S3 invokes with an S3Event when objects are created under a prefix. */
export interface BucketNotification {
  name: string
  handler: string
  /** Only keys starting with this prefix notify the handler. */
  filterPrefix: string
  events: Array<'s3:ObjectCreated:*'>
  timeoutSeconds: number
}

/** The HTTP API function. */
export const apiFunction = { name: 'Api', handler: 'functions/api.handler', timeoutSeconds: 30 } as const

export const queueSubscriptions: QueueSubscription[] = []

export const schedules: Schedule[] = []

export const bucketNotifications: BucketNotification[] = []

/** Every handler any piece of infra invokes: what must exist, export and bundle cleanly. */
export function allHandlers(): string[] {
  return [
    apiFunction.handler,
    ...queueSubscriptions.map((subscription) => subscription.handler),
    ...schedules.map((schedule) => schedule.handler),
    ...bucketNotifications.map((notification) => notification.handler),
  ]
}
