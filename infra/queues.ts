// The map and reduce queues with their dead-letter queues, and a subscriber for each
// entry of the shared wiring (packages/aws/src/wiring.ts), with partial batch responses.

import type { QueueDefinition } from '../packages/aws/src'
import {
  mapQueue as mapQueueDefinition,
  queueSubscriptions,
  reduceQueue as reduceQueueDefinition,
} from '../packages/aws/src'
import { bucket, coordination, storeTables } from './storage'

function queueWithDeadLetter(definition: QueueDefinition) {
  const deadLetter = new sst.aws.Queue(definition.deadLetter.resource)
  const queue = new sst.aws.Queue(definition.resource, {
    visibilityTimeout: `${definition.visibilityTimeoutSeconds} seconds`,
    dlq: { queue: deadLetter.arn, retry: definition.deadLetter.maxReceiveCount },
  })
  return { queue, deadLetter }
}

const map = queueWithDeadLetter(mapQueueDefinition)
const reduce = queueWithDeadLetter(reduceQueueDefinition)
export const mapQueue = map.queue
export const reduceQueue = reduce.queue
export const deadLetterQueues = [map.deadLetter, reduce.deadLetter]

const queuesByResource = new Map([
  [mapQueueDefinition.resource, mapQueue],
  [reduceQueueDefinition.resource, reduceQueue],
])

for (const subscription of queueSubscriptions) {
  const queue = queuesByResource.get(subscription.queue.resource)
  if (!queue) throw new Error(`no queue ${subscription.queue.resource} for ${subscription.handler}`)
  queue.subscribe(
    {
      handler: subscription.handler,
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      timeout: `${subscription.timeoutSeconds} seconds`,
      link: [coordination, bucket, mapQueue, reduceQueue, ...storeTables],
    },
    {
      batch: { size: subscription.batchSize, partialResponses: true },
      transform: {
        eventSourceMapping: {
          scalingConfig: { maximumConcurrency: subscription.maximumConcurrency },
        },
      },
    },
  )
}
