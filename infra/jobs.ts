// The workers: one subscriber per queue (partial batch responses, bounded concurrency),
// the scheduled handlers as crons, and the bucket's upload notifications, all from the
// shared wiring that the local runtime also runs.
import {
  awsMaximumConcurrency,
  bucketNotifications,
  queueSubscriptions,
  type Schedule,
  schedules,
} from '../packages/aws/src'
import { functionDefaults, linked } from './links'
import { queues } from './queues'
import { bucket } from './storage'

for (const subscription of queueSubscriptions) {
  const queue = queues.get(subscription.queue.resource)
  if (!queue) throw new Error(`no queue ${subscription.queue.resource} for ${subscription.handler}`)
  queue.subscribe(
    {
      ...functionDefaults,
      handler: subscription.handler,
      timeout: `${subscription.timeoutSeconds} seconds`,
      link: linked(subscription.links),
    },
    {
      batch: { size: subscription.batchSize, partialResponses: true },
      transform: {
        eventSourceMapping: {
          scalingConfig: {
            maximumConcurrency: awsMaximumConcurrency(subscription.queue.resource),
          },
        },
      },
    },
  )
}

/** EventBridge rates are whole minutes; a faster local schedule rounds up to one. */
export function rateExpression(schedule: Schedule): `rate(${string})` {
  const minutes = Math.max(1, Math.ceil(schedule.everySeconds / 60))
  return minutes === 1 ? 'rate(1 minute)' : `rate(${minutes} minutes)`
}

export const crons = schedules.map(
  (schedule) =>
    new sst.aws.Cron(schedule.name, {
      schedule: rateExpression(schedule),
      function: {
        ...functionDefaults,
        handler: schedule.handler,
        timeout: `${schedule.timeoutSeconds} seconds`,
        link: linked(schedule.links),
      },
    }),
)

if (bucketNotifications.length > 0) {
  bucket.notify({
    notifications: bucketNotifications.map((notification) => ({
      name: notification.name,
      function: {
        ...functionDefaults,
        handler: notification.handler,
        timeout: `${notification.timeoutSeconds} seconds`,
        link: linked(notification.links),
      },
      events: notification.events,
      filterPrefix: notification.filterPrefix,
    })),
  })
}
