// Every task queue from packages/aws (map, reduce, ring migration), each with its dead-
// letter queue (redrive after maxReceiveCount receives). Subscribers are in jobs.ts.
import { type QueueDefinition, queues as queueDefinitions } from '../packages/aws/src'

function queueWithDeadLetter(definition: QueueDefinition) {
  const deadLetter = new sst.aws.Queue(definition.deadLetter.resource)
  const queue = new sst.aws.Queue(definition.resource, {
    visibilityTimeout: `${definition.visibilityTimeoutSeconds} seconds`,
    dlq: { queue: deadLetter.arn, retry: definition.deadLetter.maxReceiveCount },
  })
  return { queue, deadLetter }
}

/** Every queue by resource name, dead-letter queues included. */
export const queues = new Map(
  queueDefinitions.flatMap((definition) => {
    const { queue, deadLetter } = queueWithDeadLetter(definition)
    return [
      [definition.resource, queue],
      [definition.deadLetter.resource, deadLetter],
    ] as const
  }),
)
