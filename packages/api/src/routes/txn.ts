// /txn: multi-key, multi-region transactions. POST /txn runs one (200 when committed, 409
// with a reason per operation when aborted); a client-supplied `id` makes retries
// idempotent for at least 24 hours. GET /txn/:id reads a record; GET /txn?state=in-doubt
// lists transactions the sweeper has not yet finished. Bad input is a 400 with a slug.
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
import { type Context, Hono } from 'hono'
import { z } from 'zod'
import type { AppEnv } from '../app'
import { ProblemError } from '../problem'

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
  let raw: unknown
  try {
    raw = await c.req.json()
  } catch (error) {
    throw new ProblemError(
      { slug: 'invalid-json', title: 'Body is not valid JSON', status: 400 },
      { cause: error },
    )
  }
  const body = bodySchema.safeParse(raw)
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
  }
}

async function execute(
  service: TransactionService,
  tenant: string,
  request: Awaited<ReturnType<typeof parseBody>>,
) {
  try {
    return await service.execute(tenant, request)
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
    throw error
  }
}

export function txnRoutes(service: TransactionService) {
  return new Hono<AppEnv>()
    .post('/', async (c) => {
      const request = await parseBody(c)
      const outcome = await execute(service, c.get('tenant'), request)
      const body = {
        id: outcome.id,
        state: outcome.state,
        replayed: outcome.replayed,
        operations: outcome.operations.map(operationView),
      }
      if (outcome.state === 'COMMITTED') return c.json(body, 200)
      throw new ProblemError({
        slug: 'transaction-aborted',
        title: 'Transaction aborted',
        status: 409,
        detail: `aborted: ${outcome.abortReason ?? 'unknown'}`,
        extensions: { ...body, reason: outcome.abortReason },
      })
    })
    .get('/', async (c) => {
      const state = c.req.query('state')
      if (state !== 'in-doubt')
        throw badRequest('invalid-query', 'Unsupported query', 'use ?state=in-doubt')
      const limitText = c.req.query('limit') ?? '50'
      const limit = Number(limitText)
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
        throw badRequest('invalid-limit', 'Invalid limit', 'limit is an integer in 1..100')
      }
      const records = await service.listInDoubt(c.get('tenant'), limit)
      return c.json({ transactions: records.map(recordView) })
    })
    .get('/:id', async (c) => {
      const id = c.req.param('id')
      if (!transactionIdPattern.test(id)) {
        throw badRequest(
          'invalid-transaction-id',
          'Invalid transaction id',
          `ids match ${transactionIdPattern}`,
        )
      }
      const record = await service.get(c.get('tenant'), id)
      if (!record) {
        throw new ProblemError({
          slug: 'transaction-not-found',
          title: 'Transaction not found',
          status: 404,
        })
      }
      return c.json(recordView(record))
    })
}
