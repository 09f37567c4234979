// Which handler in functions/ consumes which queue and which runs on a schedule. Infra
// turns these into queue subscribers and crons; the local runtime into SQS pollers and
// timers. Later features append their entries here, so the two can't drift.
import {
  coordinationTable,
  dataBucket,
  mapQueue,
  type QueueDefinition,
  reduceQueue,
  storeTables,
} from './resources'

/**
 * Resource names (`Resource.<name>`) a function's code reads. Infra links exactly these,
 * which is also how SST grants IAM, so this list is the function's least privilege; a
 * test bundles each handler and fails if its code can reach a resource not listed here.
 */
export type Links = readonly string[]

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
  links: Links
}

export interface Schedule {
  name: string
  handler: string
  /** Period between runs; infra renders it as `rate(N minutes)`. */
  everySeconds: number
  timeoutSeconds: number
  links: Links
}

/** A handler that S3 invokes with an S3Event when objects are created under a prefix. */
export interface BucketNotification {
  name: string
  handler: string
  /** Only keys starting with this prefix notify the handler. */
  filterPrefix: string
  events: Array<'s3:ObjectCreated:*'>
  timeoutSeconds: number
  links: Links
}

/** The HTTP API function: its routes touch every table, both queues and the bucket. */
export const apiFunction = {
  name: 'Api',
  handler: 'functions/api.handler',
  timeoutSeconds: 30,
  links: [
    coordinationTable.resource,
    ...storeTables.map((table) => table.resource),
    mapQueue.resource,
    reduceQueue.resource,
    dataBucket.resource,
  ],
}

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
