// /jobs over HTTP with app.request (no server), on the real engines. No workers run here,
// so a submitted job stays RUNNING until cancelled.
import { createApp } from '@meridian/api'
import { dynamoClient, s3Client, sqsClient } from '@meridian/aws'
import { awsMapReduceDependencies, JobService } from '@meridian/mapreduce'
import { Resource } from 'sst'
import { describe, expect, it } from 'vitest'

type Linked = Record<string, { name?: string; url?: string }>
const linked = Resource as unknown as Linked
const app = createApp({
  probes: [],
  jobs: new JobService(
    awsMapReduceDependencies({
      dynamodb: dynamoClient(),
      sqs: sqsClient(),
      s3: s3Client(),
      tableName: linked.Coordination!.name!,
      bucketName: linked.DataBucket!.name!,
      mapQueueUrl: linked.MapQueue!.url!,
      reduceQueueUrl: linked.ReduceQueue!.url!,
    }),
  ),
})

const post = (body: unknown) =>
  app.request('/jobs', {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  })

describe('/jobs', () => {
  it('rejects a bad job spec with a problem+json 400 naming the issue', async () => {
    const response = await post({ job: 'word-count', input: { records: 'not a list' } })
    expect(response.status).toBe(400)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    expect(await response.json()).toMatchObject({ type: 'urn:meridian:problem:invalid-job-spec' })
    const unknown = await post({ job: 'no-such-job', input: { records: [] } })
    expect(await unknown.json()).toMatchObject({
      status: 400,
      type: 'urn:meridian:problem:invalid-job-spec',
    })
  })

  it('answers 404 problem+json for an unknown job', async () => {
    const response = await app.request('/jobs/does-not-exist')
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ type: 'urn:meridian:problem:job-not-found' })
  })

  it('submits, reports progress, streams events and cancels a job', async () => {
    const created = await post({ job: 'word-count', input: { records: ['a b', 'b c'] } })
    expect(created.status).toBe(201)
    const job = (await created.json()) as { id: string; state: string; tasks: { total: number } }
    expect(job).toMatchObject({ state: 'RUNNING', tasks: { total: 1 } })
    const events = await app.request(`/jobs/${job.id}/events?timeoutSeconds=1&intervalMs=100`)
    expect(events.headers.get('content-type')).toMatch(/text\/event-stream/)
    const stream = await events.text()
    expect(stream).toContain('event: progress')
    expect(stream).toContain('event: timeout')
    const cancelled = await app.request(`/jobs/${job.id}`, { method: 'DELETE' })
    expect(await cancelled.json()).toMatchObject({ state: 'CANCELLED' })
    const again = await app.request(`/jobs/${job.id}`, { method: 'DELETE' })
    expect(again.status).toBe(409)
    const output = await app.request(`/jobs/${job.id}/output`)
    expect(output.status).toBe(409)
  })
})
