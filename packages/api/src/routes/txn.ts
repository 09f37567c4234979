// /txn: multi-key, multi-region transactions. POST /txn runs one (200 when committed, 409
// with a reason per operation when aborted); a client-supplied `id` makes retries
// idempotent for at least 24 hours. GET /txn/:id reads a record; GET /txn?state=in-doubt
// lists transactions the sweeper has not yet finished. Bad input is a 400 with a slug.

import { createRoute, z } from '@hono/zod-openapi'
import { currentCorrelationId } from '@meridian/aws'
import {
  InvalidTransactionError,
  operationsMax,
  TransactionIdReusedError,
  TransactionInProgressError,
  type TransactionOperation,
  type TransactionOutcome,
  TransactionOutcomeUnknownError,
  type TransactionRecord,
  type TransactionService,
  transactionIdPattern,
} from '@meridian/txn'
import type { Context } from 'hono'
import type { AppEnv } from '../app'
import { openApiRouter } from '../openapi'
import { ProblemError } from '../problem'
import { storeProblem } from './kv'
import {
  accessProblems,
  apiKeySecurity,
  bodyProblems,
  jsonBodyDocumentation,
  problemResponses,
  readJsonBody,
  rejectWith,
} from './route-declarations'

const operationKinds = ['put', 'delete', 'check'] as const
const version = z.union([
  z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  z.literal('absent'),
])
const key = z.string()
const operationSchema = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('put'),
    key,
    value: z.string(),
    encoding: z.enum(['utf8', 'base64']).optional(),
    contentType: z.string().optional(),
    ifVersion: version.optional(),
  }),
  z.strictObject({ op: z.literal('delete'), key, ifVersion: version.optional() }),
  z.strictObject({ op: z.literal('check'), key, version }),
])
const bodySchema = z.strictObject({
  id: z.string().regex(transactionIdPattern).optional(),
  protocol: z.enum(['2pc', '3pc']).optional(),
  operations: z.array(z.unknown()),
})

const badRequest = (
  slug: string,
  title: string,
  detail?: string,
  extensions?: Record<string, unknown>,
) =>
  new ProblemError({
    slug,
    title,
    status: 400,
    ...(detail && { detail }),
    ...(extensions && { extensions }),
  })

function toOperation(input: z.infer<typeof operationSchema>): TransactionOperation {
  if (input.op === 'check') return { kind: 'check', key: input.key, expectedVersion: input.version }
  const expected = input.ifVersion !== undefined ? { expectedVersion: input.ifVersion } : {}
  if (input.op === 'delete') return { kind: 'delete', key: input.key, ...expected }
  const value =
    input.encoding === 'base64'
      ? Uint8Array.from(Buffer.from(input.value, 'base64'))
      : new TextEncoder().encode(input.value)
  return {
    kind: 'put',
    key: input.key,
    value,
    contentType:
      input.contentType ??
      (input.encoding === 'base64' ? 'application/octet-stream' : 'text/plain; charset=utf-8'),
    ...expected,
  }
}

async function parseBody(c: Context<AppEnv>) {
  const body = bodySchema.safeParse(await readJsonBody(c))
  if (!body.success)
    throw badRequest('invalid-transaction', 'Invalid transaction', z.prettifyError(body.error))
  if (body.data.operations.length === 0)
    throw badRequest('no-operations', 'A transaction needs at least one operation')
  if (body.data.operations.length > operationsMax) {
    throw badRequest(
      'too-many-operations',
      'Too many operations',
      `at most ${operationsMax} operations`,
      { operationsMax },
    )
  }
  const operations = body.data.operations.map((input, operationIndex) => {
    const op = (input as { op?: unknown } | null)?.op
    if (!operationKinds.includes(op as (typeof operationKinds)[number])) {
      throw badRequest(
        'unknown-operation',
        'Unknown operation',
        `op must be one of ${operationKinds.join(', ')}`,
        { operationIndex },
      )
    }
    const parsed = operationSchema.safeParse(input)
    if (!parsed.success) {
      throw badRequest('invalid-operation', 'Invalid operation', z.prettifyError(parsed.error), {
        operationIndex,
      })
    }
    return toOperation(parsed.data)
  })
  return { ...body.data, operations }
}

function operationView(outcome: TransactionOutcome['operations'][number]) {
  const { kind, ...rest } = outcome
  return { op: kind, ...rest }
}

function recordView(record: TransactionRecord) {
  return {
    id: record.id,
    state: record.state,
    protocol: record.protocol,
    inDoubt: record.attentionDueAtMs !== undefined,
    createdAtMs: record.createdAtMs,
    leaseUntilMs: record.leaseUntilMs,
    ...(record.decidedAtMs !== undefined && { decidedAtMs: record.decidedAtMs }),
    ...(record.abortReason && { abortReason: record.abortReason }),
    participants: record.participants.map(({ key, region, kind }) => ({ key, region, op: kind })),
    ...(record.outcomes && { operations: record.outcomes.map(operationView) }),
    ...(record.correlationId !== undefined && { correlationId: record.correlationId }),
  }
}

async function execute(
  service: TransactionService,
  tenant: string,
  request: Awaited<ReturnType<typeof parseBody>>,
) {
  try {
    // The record keeps the request's correlation id: recovery logs then name the same work.
    const correlationId = currentCorrelationId()
    return await service.execute(tenant, {
      ...request,
      ...(correlationId !== undefined && { correlationId }),
    })
  } catch (error) {
    if (error instanceof InvalidTransactionError) {
      throw badRequest(error.problem.reason, 'Invalid transaction', error.problem.detail, {
        ...(error.problem.operationIndex !== undefined && {
          operationIndex: error.problem.operationIndex,
        }),
      })
    }
    if (error instanceof TransactionIdReusedError) {
      throw new ProblemError({
        slug: 'transaction-id-reused',
        title: 'Transaction id reused',
        status: 422,
        detail: error.message,
      })
    }
    if (error instanceof TransactionInProgressError) {
      throw new ProblemError({
        slug: 'transaction-in-progress',
        title: 'Transaction in progress',
        status: 409,
        detail: error.message,
        extensions: { id: error.record.id, leaseUntilMs: error.record.leaseUntilMs },
        headers: { 'retry-after': '1' },
      })
    }
    if (error instanceof TransactionOutcomeUnknownError) {
      throw new ProblemError({
        slug: 'transaction-outcome-unknown',
        title: 'Transaction outcome unknown',
        status: 503,
        detail: error.message,
        extensions: { id: error.id },
      })
    }
    // Placing the keys meets the store's own conditions (a ring change under way: 503
    // ring-changing, retryable), answered as the KV routes answer them.
    throw storeProblem(error)
  }
}

// The declarations document the routes. The body is parsed by hand (see
// route-declarations.ts) so each bad input keeps its slug; query and id are validated by
// zod-openapi, with hooks that answer as the checks in listingQuery and transactionId do.
const operationOutcomeSchema = z
  .object({
    op: z.enum(operationKinds),
    key: z.string(),
    vote: z.enum(['yes', 'no', 'not-asked']),
    reason: z.string().optional(),
    currentVersion: z.number().int().optional(),
    expectedVersion: version.optional(),
    heldBy: z.string().optional(),
    version: z.number().int().optional(),
  })
  .openapi('TransactionOperationOutcome')
const outcomeSchema = z
  .object({
    id: z.string(),
    state: z.literal('COMMITTED'),
    replayed: z.boolean(),
    operations: z.array(operationOutcomeSchema),
  })
  .openapi('TransactionOutcome')
const recordSchema = z
  .object({
    id: z.string(),
    state: z.string(),
    protocol: z.enum(['2pc', '3pc']),
    inDoubt: z.boolean(),
    createdAtMs: z.number(),
    leaseUntilMs: z.number(),
    decidedAtMs: z.number().optional(),
    abortReason: z.string().optional(),
    participants: z.array(
      z.object({ key: z.string(), region: z.string(), op: z.enum(operationKinds) }),
    ),
    operations: z.array(operationOutcomeSchema).optional(),
    correlationId: z
      .string()
      .optional()
      .openapi({ description: 'The x-correlation-id of the request that started it' }),
  })
  .openapi('TransactionRecord')
const documentedBody = bodySchema
  .extend({ operations: z.array(operationSchema).min(1).max(operationsMax) })
  .openapi('TransactionRequest')
const idParams = z.object({
  id: z
    .string()
    .regex(transactionIdPattern)
    .openapi({ description: 'A transaction id', example: 'order-1234' }),
})
const listingQuerySchema = z.object({
  state: z.literal('in-doubt').openapi({ description: 'Only `in-doubt` is supported' }),
  limit: z.coerce.number().int().min(1).max(100).default(50).openapi({ type: 'integer' }),
})

const executeRoute = createRoute({
  method: 'post',
  path: '/',
  summary: 'Run a multi-key, multi-region transaction (an `id` makes retries idempotent)',
  security: apiKeySecurity,
  request: { body: jsonBodyDocumentation(documentedBody, 'The operations, all or none') },
  responses: {
    200: {
      description: 'Committed',
      content: { 'application/json': { schema: outcomeSchema } },
    },
    ...problemResponses({
      400:
        'Invalid JSON (`invalid-json`), transaction (`invalid-transaction`, `no-operations`, ' +
        '`too-many-operations`, `duplicate-key`, `invalid-key`, …) or operation ' +
        '(`unknown-operation`, `invalid-operation`, with operationIndex)',
      ...accessProblems,
      ...bodyProblems,
      409:
        'Aborted (`transaction-aborted`, with a reason per operation) or the same id is still ' +
        'running (`transaction-in-progress`, with Retry-After)',
      422: 'The id was used for a different transaction (`transaction-id-reused`)',
      503:
        'The outcome is not known yet; retry with the same id (`transaction-outcome-unknown`), ' +
        'or a key is moving in a ring change or its region is unavailable (`ring-changing`, ' +
        '`region-unavailable`, with Retry-After)',
    }),
  },
})

const listRoute = createRoute({
  method: 'get',
  path: '/',
  summary: 'List in-doubt transactions the sweeper has not yet finished',
  security: apiKeySecurity,
  request: { query: listingQuerySchema },
  responses: {
    200: {
      description: 'The in-doubt transactions',
      content: {
        'application/json': { schema: z.object({ transactions: z.array(recordSchema) }) },
      },
    },
    ...problemResponses({
      400: 'Unsupported state (`invalid-query`) or limit (`invalid-limit`)',
      ...accessProblems,
    }),
  },
})

const getRoute = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'Read a transaction record',
  security: apiKeySecurity,
  request: { params: idParams },
  responses: {
    200: {
      description: 'The transaction',
      content: { 'application/json': { schema: recordSchema } },
    },
    ...problemResponses({
      400: 'Invalid transaction id (`invalid-transaction-id`)',
      ...accessProblems,
      404: 'No such transaction (`transaction-not-found`)',
    }),
  },
})

/** The listing's query checks, in order: the state, then the limit. */
function listingQuery(c: Context<AppEnv>): { limit: number } {
  const state = c.req.query('state')
  if (state !== 'in-doubt')
    throw badRequest('invalid-query', 'Unsupported query', 'use ?state=in-doubt')
  const limitText = c.req.query('limit') ?? '50'
  const limit = Number(limitText)
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw badRequest('invalid-limit', 'Invalid limit', 'limit is an integer in 1..100')
  }
  return { limit }
}

function transactionId(c: Context<AppEnv>): string {
  const id = c.req.param('id') ?? ''
  if (!transactionIdPattern.test(id)) {
    throw badRequest(
      'invalid-transaction-id',
      'Invalid transaction id',
      `ids match ${transactionIdPattern}`,
    )
  }
  return id
}

export function txnRoutes(service: TransactionService) {
  return openApiRouter()
    .openapi(executeRoute, async (c) => {
      const request = await parseBody(c)
      const outcome = await execute(service, c.get('tenant'), request)
      const body = {
        id: outcome.id,
        state: outcome.state,
        replayed: outcome.replayed,
        operations: outcome.operations.map(operationView),
      }
      if (outcome.state === 'COMMITTED') return c.json({ ...body, state: outcome.state }, 200)
      throw new ProblemError({
        slug: 'transaction-aborted',
        title: 'Transaction aborted',
        status: 409,
        detail: `aborted: ${outcome.abortReason ?? 'unknown'}`,
        extensions: { ...body, reason: outcome.abortReason },
      })
    })
    .openapi(
      listRoute,
      async (c) => {
        const { limit } = c.req.valid('query')
        const records = await service.listInDoubt(c.get('tenant'), limit)
        return c.json({ transactions: records.map(recordView) }, 200)
      },
      rejectWith((c) => listingQuery(c)),
    )
    .openapi(
      getRoute,
      async (c) => {
        const { id } = c.req.valid('param')
        const record = await service.get(c.get('tenant'), id)
        if (!record) {
          throw new ProblemError({
            slug: 'transaction-not-found',
            title: 'Transaction not found',
            status: 404,
          })
        }
        return c.json(recordView(record), 200)
      },
      rejectWith((c) => transactionId(c)),
    )
}
