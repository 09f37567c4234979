// Event-triggered jobs, locally as on AWS: an upload through the API under
// `incoming/<tenant>/<job>/` becomes an S3 ObjectCreated event (the local runtime's
// notification watcher stands in for S3's bucket notification), the real
// functions/job-trigger.onUpload handler runs on a worker thread and starts that job for
// the uploading tenant, under the id the upload answered; a repeated event for the same
// object starts nothing new.
// Invocations are recorded when they start, not when they finish, so the negative test
// can't pass merely because an unwanted invocation was still running when it looked.
import { bucketNotifications, s3Client } from '@meridian/aws'
import {
  type InvocationOutcome,
  repositoryRoot,
  S3NotificationWatcher,
  WorkerPool,
} from '@meridian/local'
import type { S3Event } from 'aws-lambda'
import { Resource } from 'sst'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { app, bearer, createKey, uniqueTenant } from '../api/support'

const bucket = (Resource as unknown as Record<string, { name: string }>).DataBucket!.name
const invocations: Array<{ handler: string; event: S3Event; outcome: Promise<InvocationOutcome> }> =
  []
let pool: WorkerPool
let watcher: S3NotificationWatcher

beforeAll(async () => {
  pool = new WorkerPool({ rootDirectory: repositoryRoot, size: 1 })
  watcher = new S3NotificationWatcher({
    s3: s3Client(),
    bucket,
    region: 'us-east-1',
    notifications: bucketNotifications,
    intervalMs: 100,
    invoke: (handler, event, options) => {
      const outcome = pool.invoke(handler, event, options)
      invocations.push({ handler, event: event as S3Event, outcome })
      return outcome
    },
  })
  await watcher.start()
})

afterAll(async () => {
  await watcher.stop()
  await pool.close()
})

async function invocationFor(key: string) {
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    const found = invocations.find((entry) => entry.event.Records[0]?.s3.object.key.includes(key))
    if (found) return { ...found, outcome: await found.outcome }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`no S3 event for ${key}`)
}

describe('jobs triggered by an upload', () => {
  it('starts the named job for the uploading tenant, once per uploaded object', async () => {
    const tenant = uniqueTenant('upload')
    const headers = bearer((await createKey(tenant, ['jobs'])).key)
    const upload = await app.request('/jobs/incoming/word-count/words.txt', {
      method: 'PUT',
      headers,
      body: 'the cat and the dog\n',
    })
    expect(upload.status).toBe(202)
    // The answer names the job the trigger starts, once the trigger has started it.
    const answered = (await upload.json()) as { jobId: string; started: boolean }
    expect(answered.started).toBe(true)
    expect(upload.headers.get('location')).toBe(`/jobs/${answered.jobId}`)

    const { handler, event, outcome } = await invocationFor(`incoming/${tenant}/word-count/`)
    expect(handler).toBe('functions/job-trigger.onUpload')
    expect(event.Records[0]).toMatchObject({
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: bucket }, object: { key: `incoming/${tenant}/word-count/words.txt` } },
    })
    expect(outcome.ok).toBe(true)
    const { started } = (outcome as { value: { started: string[] } }).value
    expect(started).toEqual([answered.jobId])
    const job = await app.request(`/jobs/${started[0]}`, { headers })
    expect(job.status).toBe(200)
    expect(await job.json()).toMatchObject({ id: started[0], job: 'word-count' })

    // S3 may deliver an event more than once: the same object version starts no new job.
    const replay = await pool.invoke('functions/job-trigger.onUpload', event, {
      functionName: 'replay',
      timeoutMs: 30_000,
    })
    expect(replay.ok).toBe(true)
    const replayed = (replay as { value: { started: string[] } }).value.started
    expect(replayed.every((id) => id === started[0])).toBe(true)
  })

  it('ignores objects outside the notified prefix', async () => {
    const tenant = uniqueTenant('upload')
    const headers = bearer((await createKey(tenant, ['jobs'])).key)
    const stored = await app.request('/jobs/inputs/plain/input.txt', {
      method: 'PUT',
      headers,
      body: 'a b\n',
    })
    expect(stored.status).toBe(201)
    // Sentinels instead of a fixed wait: the watcher delivers one listing's objects in turn
    // and lists again only after, so once a second sentinel (uploaded after the first was
    // seen) has started, every object uploaded before the first has been considered.
    for (const sentinel of ['sentinel-1.txt', 'sentinel-2.txt']) {
      const upload = await app.request(`/jobs/incoming/word-count/${sentinel}`, {
        method: 'PUT',
        headers,
        body: 'seen\n',
      })
      expect(upload.status).toBe(202)
      await invocationFor(`incoming/${tenant}/word-count/${sentinel}`)
    }
    const forTenant = invocations.map((entry) => entry.event.Records[0]?.s3.object.key ?? '')
    expect(forTenant.filter((key) => key.includes(tenant))).toEqual([
      `incoming/${tenant}/word-count/sentinel-1.txt`,
      `incoming/${tenant}/word-count/sentinel-2.txt`,
    ])
  })
})
