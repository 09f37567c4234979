// Scheduled jobs: functions/job-trigger.onSchedule starts the job named by the EventBridge
// rule (`job-<name>`) once per scheduled time, so a redelivered event starts nothing new,
// and ignores rules it doesn't know.
import { scheduledEvent } from '@meridian/local'
import { describe, expect, it } from 'vitest'
import { onSchedule, scheduledJobs } from '../../../functions/job-trigger'
import { app, bearer, createKey, uniqueTenant } from '../api/support'

describe('jobs triggered by a schedule', () => {
  it('starts the scheduled job once per scheduled time, for its tenant', async () => {
    const tenant = uniqueTenant('nightly')
    scheduledJobs.push({
      name: `count-${tenant}`,
      tenant,
      spec: { job: 'word-count', input: { records: ['scheduled words', 'scheduled'] } },
    })
    const at = new Date('2026-11-27T03:00:00Z')
    const first = await onSchedule(scheduledEvent(`job-count-${tenant}`, 'us-east-1', at))
    expect(first.started).toHaveLength(1)
    const again = await onSchedule(scheduledEvent(`job-count-${tenant}`, 'us-east-1', at))
    expect(again.started).toEqual(first.started)
    const nextNight = await onSchedule(
      scheduledEvent(`job-count-${tenant}`, 'us-east-1', new Date('2026-11-28T03:00:00Z')),
    )
    expect(nextNight.started).toHaveLength(1)
    expect(nextNight.started[0]).not.toBe(first.started[0])

    const headers = bearer((await createKey(tenant, ['jobs'])).key)
    const job = await app.request(`/jobs/${first.started[0]}`, { headers })
    expect(job.status).toBe(200)
    expect(await job.json()).toMatchObject({ job: 'word-count' })
  })

  it('starts nothing for a rule it does not know', async () => {
    expect(await onSchedule(scheduledEvent('job-no-such-schedule', 'us-east-1'))).toEqual({
      started: [],
    })
  })
})
