// /jobs: MapReduce jobs of the request's tenant. POST / submits a job spec (inline records
// or an S3 prefix of the tenant's space); GET /:id reports stage, tasks done/total,
// counters and the cost estimate; GET /:id/events streams progress as server-sent events
// (polling the job, for a bounded time); GET /:id/output streams the output as NDJSON
// `[key, value]` lines; DELETE /:id cancels. PUT /inputs/<path> stores an input object
// under the tenant's space; PUT /incoming/:job/<file> stores one under the upload prefix,
// whose S3 notification starts the job.
import {
  isTerminal,
  JobConditionError,
  JobNotFoundError,
  type JobService,
  JobSpecError,
} from '@meridian/mapreduce'
import { type Context, Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { z } from 'zod'
import type { AppEnv } from '../app'
import { ProblemError } from '../problem'

const jobIdParam = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,99}$/, 'a job id')
const eventsQuery = z.object({
  timeoutSeconds: z.coerce.number().int().min(1).max(900).default(60),
  intervalMs: z.coerce.number().int().min(100).max(10_000).default(500),
})
const outputQuery = z.object({ part: z.coerce.number().int().min(0).max(10_000).optional() })
const objectPath = z
  .string()
  .min(1)
  .max(900)
  .refine((path) => !path.startsWith('/') && !path.split('/').includes('..'), 'a relative path')

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    throw new ProblemError({
      slug: 'invalid-request',
      title: 'Bad Request',
      status: 400,
      detail: `invalid ${what}`,
      extensions: {
        issues: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
      },
    })
  }
  return parsed.data
}

/** Typed MapReduce errors become problem+json with stable slugs. */
function toProblem(error: unknown): never {
  if (error instanceof JobSpecError) {
    throw new ProblemError(
      {
        slug: 'invalid-job-spec',
        title: 'Invalid Job Spec',
        status: 400,
        detail: error.message,
        extensions: { issues: error.issues },
      },
      { cause: error },
    )
  }
  if (error instanceof JobNotFoundError) {
    throw new ProblemError(
      { slug: 'job-not-found', title: 'Job Not Found', status: 404, detail: error.message },
      { cause: error },
    )
  }
  if (error instanceof JobConditionError) {
    throw new ProblemError(
      {
        slug: 'job-state-conflict',
        title: 'Job State Conflict',
        status: 409,
        detail: error.message,
        extensions: { state: error.current?.state },
      },
      { cause: error },
    )
  }
  throw error
}

async function guarded<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    return toProblem(error)
  }
}

async function jsonBody(c: Context<AppEnv>): Promise<unknown> {
  try {
    return await c.req.json()
  } catch {
    throw new ProblemError({
      slug: 'invalid-json',
      title: 'Bad Request',
      status: 400,
      detail: 'the body is not JSON',
    })
  }
}

export function jobRoutes(jobs: JobService) {
  const app = new Hono<AppEnv>()

  app.post('/', async (c) => {
    const body = await jsonBody(c)
    const job = await guarded(() => jobs.submit(c.get('tenant'), body))
    return c.json(job, 201, { location: `/jobs/${job.id}` })
  })

  app.put('/inputs/:path{.+}', async (c) => {
    const path = parse(objectPath, c.req.param('path'), 'path')
    const body = new Uint8Array(await c.req.arrayBuffer())
    return c.json(await guarded(() => jobs.upload(c.get('tenant'), path, body)), 201)
  })

  app.put('/incoming/:job/:file{.+}', async (c) => {
    const jobName = parse(z.string().min(1).max(100), c.req.param('job'), 'job name')
    const file = parse(objectPath, c.req.param('file'), 'file')
    const body = new Uint8Array(await c.req.arrayBuffer())
    const stored = await guarded(() =>
      jobs.upload(c.get('tenant'), file, body, { incomingJob: jobName }),
    )
    // The job starts from the bucket's notification, not from this request.
    return c.json(stored, 202)
  })

  app.get('/:id', async (c) => {
    const id = parse(jobIdParam, c.req.param('id'), 'job id')
    return c.json(await guarded(() => jobs.get(c.get('tenant'), id)))
  })

  app.delete('/:id', async (c) => {
    const id = parse(jobIdParam, c.req.param('id'), 'job id')
    return c.json(await guarded(() => jobs.cancel(c.get('tenant'), id)))
  })

  app.get('/:id/output', async (c) => {
    const id = parse(jobIdParam, c.req.param('id'), 'job id')
    const { part } = parse(outputQuery, c.req.query(), 'query')
    const stream = await guarded(() => jobs.output(c.get('tenant'), id, part))
    return new Response(stream, { headers: { 'content-type': 'application/x-ndjson' } })
  })

  app.get('/:id/events', async (c) => {
    const id = parse(jobIdParam, c.req.param('id'), 'job id')
    const { timeoutSeconds, intervalMs } = parse(eventsQuery, c.req.query(), 'query')
    const tenant = c.get('tenant')
    const first = await guarded(() => jobs.get(tenant, id))
    return streamSSE(c, async (stream) => {
      const deadline = Date.now() + timeoutSeconds * 1000
      let job = first
      let sent = ''
      let sequence = 0
      for (;;) {
        const snapshot = JSON.stringify(job)
        if (snapshot !== sent) {
          await stream.writeSSE({ event: 'progress', data: snapshot, id: String(sequence++) })
          sent = snapshot
        }
        if (isTerminal(job.state)) {
          await stream.writeSSE({ event: 'end', data: JSON.stringify({ state: job.state }) })
          return
        }
        if (Date.now() >= deadline || stream.aborted) {
          await stream.writeSSE({ event: 'timeout', data: JSON.stringify({ state: job.state }) })
          return
        }
        await stream.sleep(intervalMs)
        job = await jobs.get(tenant, id)
      }
    })
  })

  return app
}
