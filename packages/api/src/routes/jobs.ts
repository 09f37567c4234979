// /jobs: MapReduce jobs of the request's tenant. POST / submits a job spec (inline records
// or an S3 prefix of the tenant's space); GET / lists the tenant's jobs newest first, a page
// at a time (optionally of one state); GET /:id reports stage, tasks done/total,
// counters and the cost estimate; GET /:id/events streams progress as server-sent events
// (polling the job, for a bounded time); GET /:id/output streams the output as NDJSON
// `[key, value]` lines; DELETE /:id cancels. PUT /inputs/<path> stores an input object
// under the tenant's space; PUT /incoming/:job/<file> stores one under the upload prefix,
// whose S3 notification starts the job, and answers that job's id.

import { createRoute, z } from '@hono/zod-openapi'
import {
  InvalidCursorError,
  JobConditionError,
  JobNotFoundError,
  type JobService,
  JobSpecError,
  JobState,
  jobSpecSchema,
  TooManyRunningJobsError,
} from '@meridian/mapreduce'
import type { Context } from 'hono'
import type { AppEnv } from '../app'
import { openApiRouter } from '../openapi'
import { ProblemError } from '../problem'
import { jobEventStream, lastEventId } from './job-events'
import {
  accessProblems,
  apiKeySecurity,
  bodyProblems,
  invalidCursor,
  jsonBodyDocumentation,
  pageQuery,
  pageSchema,
  problemResponses,
  readJsonBody,
  rejectWith,
  spanningLastParameter,
} from './route-declarations'

const jobIdParam = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,99}$/, 'a job id')
const eventsQuery = z.object({
  timeoutSeconds: z.coerce.number().int().min(1).max(900).default(60),
  intervalMs: z.coerce.number().int().min(100).max(10_000).default(500),
})
const jobStates = Object.values(JobState) as [JobState, ...JobState[]]
const listQuery = z.object({
  state: z
    .enum(jobStates)
    .optional()
    .openapi({ description: `Only jobs in this state: ${jobStates.join(', ')}` }),
  ...pageQuery,
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
  if (error instanceof InvalidCursorError) throw invalidCursor(error)
  if (error instanceof JobNotFoundError) {
    throw new ProblemError(
      { slug: 'job-not-found', title: 'Job Not Found', status: 404, detail: error.message },
      { cause: error },
    )
  }
  if (error instanceof TooManyRunningJobsError) {
    throw new ProblemError(
      {
        slug: 'too-many-running-jobs',
        title: 'Too Many Running Jobs',
        status: 429,
        detail: `${error.message}; submit again when one of them has ended`,
        extensions: { runningJobsMax: error.runningJobsMax },
        // A hint for generic 429 handling: jobs take minutes, not milliseconds.
        headers: { 'retry-after': '30' },
      },
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

// The declarations document the routes. Parameters and queries are validated by
// zod-openapi with hooks that re-run `parse` in the original order (the id before the
// query), so a bad one is answered exactly as before; the job spec is parsed by hand and
// validated by the service (`invalid-json`, `invalid-job-spec`).
const jobSchema = z
  .object({
    id: z.string(),
    job: z.string(),
    state: z.string(),
    round: z.number().int(),
    stage: z.string(),
    tasks: z.object({ done: z.number().int(), total: z.number().int() }),
    mapTasks: z.number().int(),
    partitions: z.number().int(),
    counters: z.record(z.string(), z.number()),
    cost: z.object({
      sqsUsd: z.number(),
      s3Usd: z.number(),
      dynamodbUsd: z.number(),
      lambdaUsd: z.number(),
      lambdaGbSeconds: z.number(),
      totalUsd: z.number(),
      assumptions: z.record(z.string(), z.unknown()),
    }),
    failure: z.string().optional(),
    lastError: z.string().optional(),
    model: z.unknown().optional(),
    output: z.object({ parts: z.number().int() }).optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Job')
const jobResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: jobSchema } },
})
const storedSchema = z.object({ key: z.string(), bytes: z.number().int() }).openapi('StoredObject')
const incomingSchema = z
  .object({
    key: z.string(),
    bytes: z.number().int(),
    jobId: z.string().openapi({ description: 'The job the upload starts (GET /jobs/{jobId})' }),
    started: z.boolean().openapi({
      description:
        'Whether the trigger had started the job when this answer left (within waitMs); ' +
        'if not, it starts it shortly, under the same id',
    }),
  })
  .openapi('IncomingUpload')
/** The longest an incoming upload waits for its trigger; well inside request timeouts. */
const incomingWaitMsMax = 20_000
const incomingQuery = z.object({
  waitMs: z.coerce
    .number()
    .int()
    .min(0)
    .max(incomingWaitMsMax)
    .default(5_000)
    .openapi({ description: 'How long to wait for the trigger to start the job (ms)' }),
})
const incomingPollMs = 200
const binary = z.string().openapi({ format: 'binary', description: 'The raw bytes' })
const idParams = z.object({ id: jobIdParam.openapi({ description: 'The job id' }) })
const pathDescription = (what: string) =>
  `${what}, relative (no leading / and no ..). It may contain /, although an OpenAPI path ` +
  'template matches one segment.'
const jobNameParam = z.string().min(1).max(100)
const badId = { 400: 'Invalid job id or query (`invalid-request`)' }
const notFound = { 404: 'No such job (`job-not-found`)' }
const stateConflict = { 409: 'The job is not in a state that allows this (`job-state-conflict`)' }

const submitRoute = createRoute({
  method: 'post',
  path: '/',
  summary: 'Submit a job: a registered job name, its params and its input',
  security: apiKeySecurity,
  request: {
    body: jsonBodyDocumentation(jobSpecSchema, 'The job spec: inline records or an S3 prefix'),
  },
  responses: {
    201: {
      ...jobResponse('Submitted'),
      headers: { location: { description: 'The job', schema: { type: 'string' as const } } },
    },
    ...problemResponses({
      400: 'Invalid JSON (`invalid-json`) or job spec (`invalid-job-spec`, with issues)',
      ...accessProblems,
      ...bodyProblems,
      429:
        'The API key is over its request rate (`rate-limited`, Retry-After), or the tenant ' +
        'runs as many jobs as its limit allows (`too-many-running-jobs`)',
      ...stateConflict,
    }),
  },
})

const uploadProblems = problemResponses({
  400: 'Invalid path (`invalid-request`) or job name (`invalid-job-spec`)',
  ...accessProblems,
  413: 'The body is over the upload limit (`payload-too-large`)',
})

const uploadInputRoute = createRoute({
  method: 'put',
  path: '/inputs/{path}',
  summary: "Store an input object under the tenant's space",
  security: apiKeySecurity,
  request: {
    params: z.object({
      path: objectPath.openapi({ description: pathDescription('The object path') }),
    }),
    body: { description: 'The object', content: { '*/*': { schema: binary } } },
  },
  responses: {
    201: { description: 'Stored', content: { 'application/json': { schema: storedSchema } } },
    ...uploadProblems,
  },
})

const uploadIncomingRoute = createRoute({
  method: 'put',
  path: '/incoming/{job}/{file}',
  summary: 'Store an object under the upload prefix; its bucket notification starts the job',
  security: apiKeySecurity,
  request: {
    params: z.object({
      job: jobNameParam.openapi({ description: 'The registered job to run on the upload' }),
      file: objectPath.openapi({ description: pathDescription('The file name') }),
    }),
    query: incomingQuery,
    body: { description: 'The object', content: { '*/*': { schema: binary } } },
  },
  responses: {
    202: {
      description:
        'Stored; the bucket notification starts the job with this id (the answer waits up to ' +
        'waitMs for it to start)',
      headers: { location: { description: 'The job', schema: { type: 'string' as const } } },
      content: { 'application/json': { schema: incomingSchema } },
    },
    ...uploadProblems,
  },
})

const listRoute = createRoute({
  method: 'get',
  path: '/',
  summary: "List the tenant's jobs, newest first, a page at a time",
  security: apiKeySecurity,
  request: { query: listQuery },
  responses: {
    200: {
      description:
        'One page of jobs (each as GET /jobs/{id} reports it) and the cursor of the next page. ' +
        'A page may hold fewer than limit jobs (even none) while nextCursor is not null.',
      content: { 'application/json': { schema: pageSchema(jobSchema, 'JobPage') } },
    },
    ...problemResponses({
      400: 'Invalid state or limit (`invalid-request`) or cursor (`invalid-cursor`)',
      ...accessProblems,
    }),
  },
})

const getRoute = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'Report a job: stage, tasks done/total, counters and the cost estimate',
  security: apiKeySecurity,
  request: { params: idParams },
  responses: {
    200: jobResponse('The job'),
    ...problemResponses({ ...badId, ...accessProblems, ...notFound }),
  },
})

const cancelRoute = createRoute({
  method: 'delete',
  path: '/{id}',
  summary: 'Cancel a job (tasks stop at their next check)',
  security: apiKeySecurity,
  request: { params: idParams },
  responses: {
    200: jobResponse('Cancelled'),
    ...problemResponses({ ...badId, ...accessProblems, ...notFound, ...stateConflict }),
  },
})

// zod-openapi's types read any application/…json media type as JSON or, like NDJSON, as
// `never`; widened to a plain record, the typed client sees a Response to stream instead.
const ndjsonContent: Record<string, { schema: z.ZodType }> = {
  'application/x-ndjson': { schema: z.string() },
}

const outputRoute = createRoute({
  method: 'get',
  path: '/{id}/output',
  summary: 'Stream the output as NDJSON `[key, value]` lines',
  security: apiKeySecurity,
  request: { params: idParams, query: outputQuery },
  responses: {
    200: {
      description: 'One `[key, value]` JSON array per line (all parts, or the one asked for)',
      content: ndjsonContent,
    },
    ...problemResponses({ ...badId, ...accessProblems, ...notFound, ...stateConflict }),
  },
})

const eventsRoute = createRoute({
  method: 'get',
  path: '/{id}/events',
  summary: 'Stream progress as server-sent events until the job ends or the timeout',
  security: apiKeySecurity,
  request: { params: idParams, query: eventsQuery },
  responses: {
    200: {
      description:
        '`progress` events carry the job (as GET /jobs/{id}) when it changes, with an id that a ' +
        'reconnect sends back as Last-Event-ID; the stream ends with `end` (the job finished), ' +
        '`timeout` (timeoutSeconds) or, before the API function times out, `reconnect`',
      content: { 'text/event-stream': { schema: z.string() } },
    },
    ...problemResponses({ ...badId, ...accessProblems, ...notFound }),
  },
})

/** Polls for the job until it exists or waitMs passes. */
async function jobStarted(jobs: JobService, tenant: string, jobId: string, waitMs: number) {
  const deadlineMs = Date.now() + waitMs
  for (;;) {
    try {
      await jobs.record(tenant, jobId)
      return true
    } catch (error) {
      if (!(error instanceof JobNotFoundError)) throw error
    }
    const remainingMs = deadlineMs - Date.now()
    if (remainingMs <= 0) return false
    await new Promise((resolve) => setTimeout(resolve, Math.min(incomingPollMs, remainingMs)))
  }
}

const checkId = (c: Context<AppEnv>) => parse(jobIdParam, c.req.param('id'), 'job id')
const rejectId = rejectWith(checkId)

export function jobRoutes(jobs: JobService) {
  const app = openApiRouter()
  return app
    .openapi(submitRoute, async (c) => {
      const body = await readJsonBody(c)
      const job = await guarded(() => jobs.submit(c.get('tenant'), body))
      return c.json(job, 201, { location: `/jobs/${job.id}` })
    })
    .openapi(listRoute, async (c) => {
      const query = c.req.valid('query')
      return c.json(await guarded(() => jobs.list(c.get('tenant'), query)), 200)
    })
    .openapi(
      spanningLastParameter(app, uploadInputRoute, '.+'),
      async (c) => {
        const { path } = c.req.valid('param')
        const body = new Uint8Array(await c.req.arrayBuffer())
        return c.json(await guarded(() => jobs.upload(c.get('tenant'), path, body)), 201)
      },
      rejectWith((c) => parse(objectPath, c.req.param('path'), 'path')),
    )
    .openapi(
      spanningLastParameter(app, uploadIncomingRoute, '.+'),
      async (c) => {
        const { job: jobName, file } = c.req.valid('param')
        const { waitMs } = c.req.valid('query')
        const body = new Uint8Array(await c.req.arrayBuffer())
        const tenant = c.get('tenant')
        const stored = await guarded(() =>
          jobs.upload(tenant, file, body, { incomingJob: jobName }),
        )
        const jobId = stored.jobId
        if (jobId === undefined) throw new Error('an incoming upload names its job')
        // The job starts from the bucket's notification, not from this request: the id is
        // fixed now (stored on the object), and the answer waits a bounded time to say
        // whether the trigger has started it.
        const started = await jobStarted(jobs, tenant, jobId, waitMs)
        return c.json({ key: stored.key, bytes: stored.bytes, jobId, started }, 202, {
          location: `/jobs/${jobId}`,
        })
      },
      rejectWith((c) => {
        parse(jobNameParam, c.req.param('job'), 'job name')
        parse(objectPath, c.req.param('file'), 'file')
        parse(incomingQuery, c.req.query(), 'query')
      }),
    )
    .openapi(
      getRoute,
      async (c) => {
        const { id } = c.req.valid('param')
        return c.json(await guarded(() => jobs.get(c.get('tenant'), id)), 200)
      },
      rejectId,
    )
    .openapi(
      cancelRoute,
      async (c) => {
        const { id } = c.req.valid('param')
        return c.json(await guarded(() => jobs.cancel(c.get('tenant'), id)), 200)
      },
      rejectId,
    )
    .openapi(
      outputRoute,
      async (c) => {
        const { id } = c.req.valid('param')
        const { part } = c.req.valid('query')
        const stream = await guarded(() => jobs.output(c.get('tenant'), id, part))
        // zod-openapi types an application/x-…json response as never (it expects JSON or
        // a `+json` suffix); NDJSON is a stream of bytes, so the typed response can't express it.
        return c.body(stream, 200, { 'content-type': 'application/x-ndjson' }) as never
      },
      rejectWith((c) => {
        checkId(c)
        parse(outputQuery, c.req.query(), 'query')
      }),
    )
    .openapi(
      eventsRoute,
      async (c) => {
        const { id } = c.req.valid('param')
        const { timeoutSeconds, intervalMs } = c.req.valid('query')
        lastEventId(c)
        const first = await guarded(() => jobs.get(c.get('tenant'), id))
        return jobEventStream(c, jobs, first, { timeoutSeconds, intervalMs })
      },
      rejectWith((c) => {
        checkId(c)
        parse(eventsQuery, c.req.query(), 'query')
      }),
    )
}
