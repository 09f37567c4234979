// GET /jobs/:id/events never outlives the API function: it ends before the function's
// timeout with a `reconnect` event (and an SSE retry hint), and a reconnect that sends the
// last event's id back as Last-Event-ID resumes without repeating what the client has.
// On the real engines; no workers run, so a submitted job stays RUNNING.
import {
  type AppEnv,
  createApp,
  eventStreamBudgetMs,
  jobEventStream,
  reconnectRetryMs,
} from '@meridian/api'
import { apiFunction, dynamoClient, s3Client, sqsClient } from '@meridian/aws'
import { awsMapReduceDependencies, JobService } from '@meridian/mapreduce'
import { Hono } from 'hono'
import { Resource } from 'sst'
import { beforeAll, describe, expect, it } from 'vitest'

type Linked = Record<string, { name?: string; url?: string }>
const linked = Resource as unknown as Linked
const jobs = new JobService(
  awsMapReduceDependencies({
    dynamodb: dynamoClient(),
    sqs: sqsClient(),
    s3: s3Client(),
    tableName: linked.Coordination!.name!,
    bucketName: linked.DataBucket!.name!,
    mapQueueUrl: linked.MapQueue!.url!,
    reduceQueueUrl: linked.ReduceQueue!.url!,
  }),
)
const app = createApp({ probes: [], jobs })

// The stream itself, with a budget of 1.5 s instead of the function's.
const shortBudget = new Hono<AppEnv>()
shortBudget.use('*', async (c, next) => {
  c.set('tenant', 'default')
  await next()
})
shortBudget.get('/jobs/:id/events', async (c) => {
  const first = await jobs.get('default', c.req.param('id'))
  return jobEventStream(c, jobs, first, { timeoutSeconds: 60, intervalMs: 100, budgetMs: 1_500 })
})

interface ServerSentEvent {
  event?: string
  id?: string
  retry?: string
  data?: string
}

function parseEvents(text: string): ServerSentEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event: Record<string, string> = {}
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':')
        event[line.slice(0, colon)] = line.slice(colon + 1).trimStart()
      }
      return event as ServerSentEvent
    })
}

let jobId: string

beforeAll(async () => {
  const submitted = await app.request('/jobs', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ job: 'word-count', input: { records: ['events only'] } }),
  })
  expect(submitted.status).toBe(201)
  jobId = ((await submitted.json()) as { id: string }).id
})

describe('job event streams', () => {
  it('end before the API function times out', () => {
    expect(eventStreamBudgetMs).toBeLessThan(apiFunction.timeoutSeconds * 1000)
    expect(eventStreamBudgetMs).toBeGreaterThan(0)
  })

  it("end a running job's stream with a reconnect event and a retry hint", async () => {
    const events = parseEvents(await (await shortBudget.request(`/jobs/${jobId}/events`)).text())
    expect(events[0]).toMatchObject({ event: 'progress' })
    expect(events[0]!.id).toMatch(/^[0-9a-f]{16}$/)
    expect(JSON.parse(events[0]!.data!)).toMatchObject({ id: jobId, state: 'RUNNING' })
    const last = events.at(-1)!
    expect(last).toMatchObject({ event: 'reconnect', retry: String(reconnectRetryMs) })
    expect(JSON.parse(last.data!)).toEqual({ state: 'RUNNING', lastEventId: events[0]!.id })
  })

  it('resume from Last-Event-ID without repeating the job the client already has', async () => {
    const firstStream = parseEvents(
      await (await shortBudget.request(`/jobs/${jobId}/events`)).text(),
    )
    const lastSeen = firstStream[0]!.id!
    const resumed = parseEvents(
      await (
        await shortBudget.request(`/jobs/${jobId}/events`, {
          headers: { 'last-event-id': lastSeen },
        })
      ).text(),
    )
    expect(resumed.map((event) => event.event)).toEqual(['reconnect'])

    // An id from an older state of the job: the current one is sent again.
    const stale = parseEvents(
      await (
        await shortBudget.request(`/jobs/${jobId}/events`, {
          headers: { 'last-event-id': '0123456789abcdef' },
        })
      ).text(),
    )
    expect(stale[0]).toMatchObject({ event: 'progress', id: lastSeen })
  })

  it('refuses a malformed Last-Event-ID with problem+json 400', async () => {
    const response = await app.request(`/jobs/${jobId}/events`, {
      headers: { 'last-event-id': 'not-an-event-id' },
    })
    expect(response.status).toBe(400)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
  })
})
