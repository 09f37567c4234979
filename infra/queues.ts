// The map and reduce queues, each with its dead-letter queue (redrive after
// maxReceiveCount receives). Their subscribers are declared in jobs.ts.
import {
  mapQueue as mapQueueDefinition,
  type QueueDefinition,
  reduceQueue as reduceQueueDefinition,
} from '../packages/aws/src'

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

/** Every queue by resource name, dead-letter queues included. */
export const queues = new Map<string, (typeof map)['queue']>([
  [mapQueueDefinition.resource, map.queue],
  [mapQueueDefinition.deadLetter.resource, map.deadLetter],
  [reduceQueueDefinition.resource, reduce.queue],
  [reduceQueueDefinition.deadLetter.resource, reduce.deadLetter],
])
