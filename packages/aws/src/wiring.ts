// Which handler in functions/ consumes which queue and which runs on a schedule. Infra
// turns these into queue subscribers and crons; the local runtime into SQS pollers and
// timers. Later features append their entries here, so the two can't drift.

import { apiTimeoutSeconds } from './api-timeout'
import {
  adminApiKeySecret,
  coordinationTable,
  dataBucket,
  mapQueue,
  type QueueDefinition,
  reduceQueue,
  ringMigrationQueue,
  storeTableResource,
  storeTables,
} from './resources'
import { stageConfig } from './stage-config'

/**
 * Resource names (`Resource.<name>`) a function's code reads. Infra links exactly these,
 * which is also how SST grants IAM, so this list is the function's least privilege; a
 * test bundles each handler and fails if its code can reach a resource not listed here.
 */
export type Links = readonly string[]

function storeTableResources(): string[] {
  return storeTables.map((table) => table.resource)
}

export interface QueueSubscription {
  queue: QueueDefinition
  /** `functions/<file>.<export>`, as SST's `handler` takes it. */
  handler: string
  /** Records per invocation (SQS allows 1–10 without a batching window). */
  batchSize: number
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

/** The HTTP API function: its routes reach every table, both task queues and the bucket. */
export const apiFunction = {
  name: 'Api',
  handler: 'functions/api.handler',
  timeoutSeconds: apiTimeoutSeconds,
  links: [
    coordinationTable.resource,
    ...storeTableResources(),
    mapQueue.resource,
    reduceQueue.resource,
    ringMigrationQueue.resource,
    dataBucket.resource,
    adminApiKeySecret.resource,
  ],
}

/**
 * The edge tier's regional APIs: one per store region other than the home region (the home
 * region's API is `apiFunction`), each in its own region. A regional API serves a `/kv`
 * key itself when its ring is stable and every replica of the key is in its region, and
 * sends everything else to the home region's API (functions/regional-api-app.ts). So it
 * reads its own region's store table, and from the home region the coordination table
 * (API keys, the rate limit, the ring config, transaction records for intents it meets)
 * and the admin key; nothing else, in particular no other region's table.
 */
export const regionalApiFunction = {
  /** The component is `Api<Region>`, e.g. `ApiEuWest1`. */
  name: (region: string) => `Api${storeTableResource(region).slice('Store'.length)}`,
  handler: 'functions/regional-api.handler',
  timeoutSeconds: apiTimeoutSeconds,
  regions: (): string[] =>
    stageConfig.storeRegions.filter((region) => region !== stageConfig.homeRegion),
  links: (region: string): Links => [
    coordinationTable.resource,
    storeTableResource(region),
    adminApiKeySecret.resource,
  ],
}

/**
 * The edge: a Lambda@Edge origin-request function behind a CloudFront distribution
 * (infra/edge.ts). Lambda@Edge takes no environment variables and no SST links: its
 * configuration arrives in the CloudFront origin's custom headers, and it reads no AWS
 * resource at all (it fetches the ring from the home API with the caller's key).
 */
export const edgeFunction = {
  name: 'Edge',
  /** Bundled by infra/edge.ts with esbuild (not SST's builder, which adds environment). */
  entry: 'functions/edge.ts',
  /** Where the deploy writes the bundle (`index.js`), the function's archive; under .sst/. */
  artifactDirectory: '.sst/artifacts/meridian-edge',
  /** Lambda@Edge functions live in us-east-1, whatever the home region. */
  region: 'us-east-1',
  /** An origin-request trigger may run up to 30 s; it waits at most for one ring load. */
  timeoutSeconds: 10,
  memoryMb: 128,
}

/** What ring migration handlers reach: the ring config, every store table, the task queue. */
const ringMigrationLinks: Links = [
  coordinationTable.resource,
  ...storeTableResources(),
  ringMigrationQueue.resource,
]

/** What every MapReduce handler reads: job state, data, and both task queues. */
const mapReduceLinks: Links = [
  coordinationTable.resource,
  dataBucket.resource,
  mapQueue.resource,
  reduceQueue.resource,
]

// MapReduce task workers: one task per invocation (a task is seconds of work, and a
// failure then redelivers only itself). 60 s × 6 = the queues' 360 s visibility timeout.
// How many run at once is the environment's: `awsMaximumConcurrency` (stage-config.ts)
// on AWS, one per invocation thread locally.
export const queueSubscriptions: QueueSubscription[] = [
  {
    queue: mapQueue,
    handler: 'functions/map-worker.handler',
    batchSize: 1,
    timeoutSeconds: 60,
    links: mapReduceLinks,
  },
  {
    queue: reduceQueue,
    handler: 'functions/reduce-worker.handler',
    batchSize: 1,
    timeoutSeconds: 60,
    links: mapReduceLinks,
  },
  {
    // One range task per invocation: a Scan segment of one store table, handed over key by key.
    queue: ringMigrationQueue,
    handler: 'functions/ring-migration-worker.handler',
    batchSize: 1,
    timeoutSeconds: 300,
    links: ringMigrationLinks,
  },
]

export const schedules: Schedule[] = [
  {
    name: 'job-sweeper',
    handler: 'functions/job-sweeper.handler',
    everySeconds: 60,
    timeoutSeconds: 30,
    links: mapReduceLinks,
  },
  {
    // Finishes in-doubt transactions (packages/txn recovery): decides abandoned records,
    // applies or discards leftover intents, and takes finished records out of the index.
    name: 'txn-recovery',
    handler: 'functions/txn-recovery.handler',
    everySeconds: 60,
    timeoutSeconds: 30,
    links: [coordinationTable.resource, ...storeTableResources()],
  },
  {
    // Continues a stalled ring migration: raises gates, re-sends unrecorded tasks, finishes.
    name: 'ring-migration-sweeper',
    handler: 'functions/ring-migration-worker.sweep',
    everySeconds: 60,
    timeoutSeconds: 60,
    links: ringMigrationLinks,
  },
  {
    // Anti-entropy (R > 1): sends a round of repair tasks to the range-task queue, whose
    // worker compares each range across the replicas and copies the newest versions.
    name: 'replica-repair',
    handler: 'functions/ring-migration-worker.repair',
    everySeconds: 600,
    timeoutSeconds: 30,
    links: ringMigrationLinks,
  },
]

export const bucketNotifications: BucketNotification[] = [
  {
    name: 'job-upload-trigger',
    handler: 'functions/job-trigger.onUpload',
    filterPrefix: 'incoming/',
    events: ['s3:ObjectCreated:*'],
    timeoutSeconds: 60,
    links: mapReduceLinks,
  },
]

/**
 * Every handler SST builds and deploys (once per function: the regional API once per
 * region): what must exist, export and bundle cleanly. The edge function is built apart
 * (`edgeFunction`).
 */
export function allHandlers(): string[] {
  return [
    apiFunction.handler,
    ...regionalApiFunction.regions().map(() => regionalApiFunction.handler),
    ...queueSubscriptions.map((subscription) => subscription.handler),
    ...schedules.map((schedule) => schedule.handler),
    ...bucketNotifications.map((notification) => notification.handler),
  ]
}
