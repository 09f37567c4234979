/**
 * The local runtime: DynamoDB Local and fauxqs on free ports, the tables, queues and
 * bucket created from the shared definitions, the SST resource environment, and Lambda's
 * event sources emulated faithfully (SQS event source mappings with partial batch
 * responses, scheduled rules), invoking the same handler modules on worker threads.
 */
export { bootstrapResources, createOrUpdateQueue, createTableInput } from './bootstrap'
export { type LocalEngines, startLocalEngines } from './engines'
export { freePort } from './free-port'
export { assertJavaAvailable, JavaMissingError, parseJavaMajorVersion } from './java'
export { recordsToDelete, scheduledEvent, toSqsEvent, toSqsRecord } from './lambda-events'
export { type LocalResources, resourceEnvironment } from './local-resources'
export { type LocalRuntime, repositoryRoot, startLocalRuntime } from './runtime'
export { S3NotificationWatcher } from './s3-notifications'
export { Scheduler } from './scheduler'
export { SqsPoller, subscriptionPollers } from './sqs-poller'
export { type InvocationOutcome, WorkerPool } from './worker-pool'
