// The one place where the deployment's shape is configured: the app name, the regions
// that hold regional stores, and how far the queue subscribers scale on AWS. Infra, the
// local runtime and the initial ring config all read it.
export const stageConfig = {
  appName: 'meridian',
  /** Region of the coordination table, queues, bucket and functions. */
  homeRegion: 'us-east-1',
  /** Regions that each hold one store table; the ring routes keys among them. */
  storeRegions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'],
  /**
   * Concurrent invocations of each queue subscriber on AWS (the SQS event source's
   * `maximumConcurrency`, 2–1000), unless `subscriberMaximumConcurrencyByQueue` names its
   * queue. Sized for real jobs: 100 map tasks at once read ~3 GB/s from S3 and stay far
   * below the account's default 1,000 concurrent executions. The local runtime ignores it
   * and runs one poller per invocation thread (one per core).
   */
  subscriberMaximumConcurrency: 100,
  subscriberMaximumConcurrencyByQueue: {} as Readonly<Record<string, number>>,
} as const

export type StoreRegion = (typeof stageConfig.storeRegions)[number]

/** A queue subscriber's `maximumConcurrency` on AWS, from the stage config. */
export function awsMaximumConcurrency(queueResource: string): number {
  return (
    stageConfig.subscriberMaximumConcurrencyByQueue[queueResource] ??
    stageConfig.subscriberMaximumConcurrency
  )
}
