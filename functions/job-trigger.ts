// Event-triggered jobs. `onUpload`: S3 notifies on objects created under
// `incoming/<tenant>/<job>/`, and the named job starts over that object (one job per
// object version, so a repeated notification starts nothing new). `onSchedule`: an
// EventBridge rule named after a scheduled job starts it once per scheduled time.
import type { JobService, ScheduledJob } from '@meridian/mapreduce'
import type { S3Event, ScheduledEvent } from 'aws-lambda'
import { mapReduceService } from './mapreduce-service'

/** Jobs that run on a schedule; wiring.ts gives each a rule named `job-<name>`. */
export const scheduledJobs: ScheduledJob[] = []

let service: JobService | undefined
const jobs = () => {
  service ??= mapReduceService()
  return service
}

export async function onUpload(event: S3Event) {
  const started: string[] = []
  for (const record of event.Records) {
    // Keys in S3 events are URL-encoded with '+' for spaces.
    const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '))
    const job = await jobs().startFromUpload({
      key,
      eTag: record.s3.object.eTag,
      sequencer: record.s3.object.sequencer,
    })
    if (job) started.push(job.id)
  }
  return { started }
}

export async function onSchedule(event: ScheduledEvent) {
  const rule = event.resources[0]?.split('/').pop() ?? ''
  const scheduled = scheduledJobs.find((job) => `job-${job.name}` === rule)
  if (!scheduled) return { started: [] }
  const job = await jobs().startScheduled(scheduled, event.time)
  return { started: [job.id] }
}
