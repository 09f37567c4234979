// /locks/:name: lease locks with fencing tokens. POST /acquire takes the lock (waiting up
// to waitMs) and answers the lease with its fence; POST /renew and /release need the
// (owner, fence) of the lease; GET shows the lock. A held lock is a 409 whose problem
// carries the holder (owner, fence, leaseUntilMs); renew/release of a lock you don't hold
// is a 409 (someone else or nobody holds it now) or a 404 (no such lock); bad input is a
// 400 with a specific slug. Clients pass the fence to the KV store as `Meridian-Fence`.
// GET /locks lists the tenant's locks by name, a page at a time, optionally only held or
// only free ones.

import { createRoute, z } from '@hono/zod-openapi'
import {
  InvalidLockCursorError,
  LockHeldError,
  LockNotHeldError,
  type LockService,
  LockTableUnavailableError,
  lockLimits,
  lockNamePattern,
} from '@meridian/lock'
import type { Context } from 'hono'
import type { AppEnv } from '../app'
import { openApiRouter } from '../openapi'
import { ProblemError } from '../problem'
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
} from './route-declarations'

/** The HTTP wait bound: a request must finish well inside API Gateway/function timeouts. */
export const lockWaitMsMaxHttp = 20_000

const owner = z
  .string()
  .min(1)
  .max(lockLimits.ownerLengthMax)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
const fence = z.number().int().positive().max(Number.MAX_SAFE_INTEGER)
const leaseMs = z.number().int().min(lockLimits.leaseMsMin).max(lockLimits.leaseMsMax)

const acquireBody = z.strictObject({
  owner: owner.optional(),
  leaseMs,
  waitMs: z.number().int().min(0).max(lockWaitMsMaxHttp).optional(),
})
const renewBody = z.strictObject({ owner, fence, leaseMs })
const releaseBody = z.strictObject({ owner, fence })

function lockName(c: Context<AppEnv>): string {
  const name = c.req.param('name') ?? ''
  if (!lockNamePattern.test(name)) {
    throw new ProblemError({
      slug: 'invalid-lock-name',
      title: 'Invalid lock name',
      status: 400,
      detail: `1–${lockLimits.nameLengthMax} characters of A–Z a–z 0–9 . _ : -`,
    })
  }
  return name
}

async function body<T>(c: Context<AppEnv>, schema: z.ZodType<T>): Promise<T> {
  const parsed = schema.safeParse(await readJsonBody(c))
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ProblemError({
      slug: 'invalid-lock-request',
      title: 'Invalid lock request',
      status: 400,
      detail: issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid body',
    })
  }
  return parsed.data
}

/** Maps the lock package's typed errors to problem+json; anything else goes to app.onError. */
export function lockProblem(error: unknown, name: string): unknown {
  if (error instanceof LockHeldError) {
    return new ProblemError(
      {
        slug: 'lock-held',
        title: 'Lock is held',
        status: 409,
        detail: error.message,
        extensions: {
          name,
          owner: error.holder,
          fence: error.fence,
          leaseUntilMs: error.leaseUntilMs,
        },
      },
      { cause: error },
    )
  }
  if (error instanceof LockNotHeldError) {
    const current = error.current
    if (!current)
      return new ProblemError(
        { slug: 'lock-not-found', title: 'No such lock', status: 404, extensions: { name } },
        { cause: error },
      )
    return new ProblemError(
      {
        slug: 'lock-not-held',
        title: 'Lock is not held by this owner and fence',
        status: 409,
        detail: error.message,
        extensions: {
          name,
          fence: current.fence,
          ...(current.owner !== undefined && {
            owner: current.owner,
            leaseUntilMs: current.leaseUntilMs,
          }),
        },
      },
      { cause: error },
    )
  }
  if (error instanceof LockTableUnavailableError) {
    return new ProblemError(
      {
        slug: 'lock-table-unavailable',
        title: 'Lock table busy',
        status: 503,
        extensions: { name },
      },
      { cause: error },
    )
  }
  return error
}

function leaseBody(lease: { name: string; owner: string; fence: number; leaseUntilMs: number }) {
  return {
    name: lease.name,
    owner: lease.owner,
    fence: lease.fence,
    leaseUntilMs: lease.leaseUntilMs,
  }
}

// The declarations document the routes; the name is validated by zod-openapi with a hook
// that answers as lockName does, and bodies are parsed by hand (see route-declarations.ts)
// so a bad one stays `invalid-json` or `invalid-lock-request`.
const nameParams = z.object({
  name: z
    .string()
    .regex(lockNamePattern)
    .openapi({
      description: `1–${lockLimits.nameLengthMax} characters of A–Z a–z 0–9 . _ : -`,
      example: 'orders-compactor',
    }),
})
const leaseSchema = z
  .object({
    name: z.string(),
    owner: z.string(),
    fence: z.number().int(),
    leaseUntilMs: z.number(),
  })
  .openapi('LockLease')
const lockStateSchema = z
  .object({
    name: z.string(),
    fence: z.number().int(),
    held: z.boolean(),
    owner: z.string().optional(),
    leaseUntilMs: z.number().optional(),
  })
  .openapi('LockState')
const leaseResponse = (description: string) => ({
  200: { description, content: { 'application/json': { schema: leaseSchema } } },
})
const badInput = {
  400: 'Invalid lock name (`invalid-lock-name`), body (`invalid-lock-request`) or JSON (`invalid-json`)',
}
const tableBusy = { 503: 'The lock table is busy (`lock-table-unavailable`)' }
const writeProblems = { ...accessProblems, ...bodyProblems }

const acquireRoute = createRoute({
  method: 'post',
  path: '/{name}/acquire',
  summary: 'Acquire a lease on a lock, waiting up to waitMs; the lease carries its fence',
  security: apiKeySecurity,
  request: {
    params: nameParams,
    body: jsonBodyDocumentation(acquireBody, 'The lease length, and optionally the owner and wait'),
  },
  responses: {
    ...leaseResponse('The lease, with the fence to pass to the KV store as Meridian-Fence'),
    ...problemResponses({
      ...badInput,
      ...writeProblems,
      409: 'Someone else holds the lock (`lock-held`, with owner, fence and leaseUntilMs)',
      ...tableBusy,
    }),
  },
})

const notHeld = {
  404: 'No such lock (`lock-not-found`)',
  409: 'The lock is not held by this owner and fence (`lock-not-held`, with the current holder)',
}

const renewRoute = createRoute({
  method: 'post',
  path: '/{name}/renew',
  summary: 'Extend a lease you hold',
  security: apiKeySecurity,
  request: {
    params: nameParams,
    body: jsonBodyDocumentation(renewBody, 'The owner and fence of the lease, and its new length'),
  },
  responses: {
    ...leaseResponse('The renewed lease'),
    ...problemResponses({ ...badInput, ...writeProblems, ...notHeld, ...tableBusy }),
  },
})

const releaseRoute = createRoute({
  method: 'post',
  path: '/{name}/release',
  summary: 'Release a lease you hold',
  security: apiKeySecurity,
  request: {
    params: nameParams,
    body: jsonBodyDocumentation(releaseBody, 'The owner and fence of the lease'),
  },
  responses: {
    200: {
      description: 'Released',
      content: {
        'application/json': {
          schema: z.object({
            name: z.string(),
            fence: z.number().int(),
            released: z.literal(true),
          }),
        },
      },
    },
    ...problemResponses({ ...badInput, ...writeProblems, ...notHeld, ...tableBusy }),
  },
})

const listQuery = z.object({
  held: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ description: 'Only held locks (true) or only free ones (false)' }),
  ...pageQuery,
})
const listedLockSchema = z
  .object({
    name: z.string(),
    holder: z.string().optional().openapi({ description: 'The owner, while held' }),
    fence: z.number().int().openapi({ description: 'The last fence granted' }),
    expiresAt: z.string().optional().openapi({ description: 'Lease end (ISO 8601), while held' }),
    held: z.boolean(),
  })
  .openapi('ListedLock')

const listRoute = createRoute({
  method: 'get',
  path: '/',
  summary: "List the tenant's locks by name, a page at a time",
  security: apiKeySecurity,
  request: { query: listQuery },
  responses: {
    200: {
      description:
        'One page of locks and the cursor of the next page. A page may hold fewer than limit ' +
        'locks (even none) while nextCursor is not null.',
      headers: { 'cache-control': { schema: { type: 'string', example: 'no-store' } } },
      content: { 'application/json': { schema: pageSchema(listedLockSchema, 'LockPage') } },
    },
    ...problemResponses({
      400: 'Invalid held or limit (`invalid-request`) or cursor (`invalid-cursor`)',
      ...accessProblems,
      ...tableBusy,
    }),
  },
})

const inspectRoute = createRoute({
  method: 'get',
  path: '/{name}',
  summary: 'Show a lock: its last fence and, while held, the holder and lease end',
  security: apiKeySecurity,
  request: { params: nameParams },
  responses: {
    200: {
      description: 'The lock',
      headers: { 'cache-control': { schema: { type: 'string', example: 'no-store' } } },
      content: { 'application/json': { schema: lockStateSchema } },
    },
    ...problemResponses({
      400: 'Invalid lock name (`invalid-lock-name`)',
      ...accessProblems,
      404: 'No such lock (`lock-not-found`)',
      ...tableBusy,
    }),
  },
})

const rejectName = rejectWith((c) => lockName(c))

export function lockRoutes(locks: LockService) {
  const run = async <T>(name: string, operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation()
    } catch (error) {
      throw lockProblem(error, name)
    }
  }
  return openApiRouter()
    .openapi(listRoute, async (c) => {
      const { held, limit, cursor } = c.req.valid('query')
      let page: Awaited<ReturnType<LockService['list']>>
      try {
        page = await locks.list(c.get('tenant'), {
          limit,
          ...(cursor !== undefined && { cursor }),
          ...(held !== undefined && { held: held === 'true' }),
        })
      } catch (error) {
        if (error instanceof InvalidLockCursorError) throw invalidCursor(error)
        throw error
      }
      c.header('cache-control', 'no-store')
      const items = page.items.map((lock) => ({
        name: lock.name,
        ...(lock.owner !== undefined && { holder: lock.owner }),
        fence: lock.fence,
        ...(lock.leaseUntilMs !== undefined && {
          expiresAt: new Date(lock.leaseUntilMs).toISOString(),
        }),
        held: lock.held,
      }))
      return c.json({ items, nextCursor: page.nextCursor }, 200)
    })
    .openapi(
      acquireRoute,
      async (c) => {
        const { name } = c.req.valid('param')
        const input = await body(c, acquireBody)
        const lease = await run(name, () => locks.acquire(c.get('tenant'), name, input))
        return c.json(leaseBody(lease), 200)
      },
      rejectName,
    )
    .openapi(
      renewRoute,
      async (c) => {
        const { name } = c.req.valid('param')
        const input = await body(c, renewBody)
        const lease = await run(name, () => locks.renew(c.get('tenant'), name, input))
        return c.json(leaseBody(lease), 200)
      },
      rejectName,
    )
    .openapi(
      releaseRoute,
      async (c) => {
        const { name } = c.req.valid('param')
        const input = await body(c, releaseBody)
        await run(name, () => locks.release(c.get('tenant'), name, input))
        return c.json({ name, fence: input.fence, released: true as const }, 200)
      },
      rejectName,
    )
    .openapi(
      inspectRoute,
      async (c) => {
        const { name } = c.req.valid('param')
        const state = await run(name, () => locks.inspect(c.get('tenant'), name))
        if (!state)
          throw new ProblemError({
            slug: 'lock-not-found',
            title: 'No such lock',
            status: 404,
            extensions: { name },
          })
        c.header('cache-control', 'no-store')
        return c.json(state, 200)
      },
      rejectName,
    )
}
