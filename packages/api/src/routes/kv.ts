// /kv/:key: raw bytes in and out, versions as ETags. GET returns the value with its
// Content-Type and ETag `"<version>"`; PUT stores the body (If-Match: "<version>" for
// compare-and-swap, If-None-Match: * for create-only, Meridian-Fence: <token> for a write
// fenced by a lock); DELETE leaves a tombstone. The key is the rest of the path after /kv/,
// percent-decoded as UTF-8 by this module (not by the router, which would pass invalid
// escapes through unchanged), so a key may contain '/' (encoded or not).

import { createRoute, z } from '@hono/zod-openapi'
import {
  InvalidContentTypeError,
  InvalidKeyError,
  InvalidRingConfigError,
  KeyInTransactionError,
  KeyNotFoundError,
  type KvService,
  QuorumNotReachedError,
  RegionUnavailableError,
  RingChangeUnsupportedError,
  RingChangingError,
  RingMigrationInProgressError,
  RingUnavailableError,
  RingVersionMismatchError,
  StaleFenceError,
  ValueTooLargeError,
  VersionMismatchError,
  valueSizeMaxBytes,
} from '@meridian/store'
import type { Context } from 'hono'
import { openApiRouter } from '../openapi'
import { ProblemError } from '../problem'
import {
  accessProblems,
  apiKeySecurity,
  problemResponses,
  rejectWith,
  spanningLastParameter,
} from './route-declarations'

export const fenceHeader = 'meridian-fence'

const etagPattern = /^"(0|[1-9][0-9]{0,14})"$/
const etagHeader = z.string().regex(etagPattern, 'an ETag such as "3"')
const fenceValue = z.string().regex(/^(0|[1-9][0-9]{0,14})$/, 'a non-negative integer')
const anyRepresentation = z.literal('*', 'only * is supported')

export function etagOf(version: number): string {
  return `"${version}"`
}

function versionOfEtag(etag: string): number {
  return Number(etagPattern.exec(etag)![1])
}

/** Validates one optional header with a schema; a bad value is a 400 with the given slug. */
function header<T>(c: Context, name: string, schema: z.ZodType<T>, slug: string): T | undefined {
  const raw = c.req.header(name)
  if (raw === undefined) return undefined
  const parsed = schema.safeParse(raw.trim())
  if (!parsed.success) {
    throw new ProblemError({
      slug,
      title: `Invalid ${name} header`,
      status: 400,
      detail: parsed.error.issues[0]?.message ?? 'invalid value',
    })
  }
  return parsed.data
}

/**
 * The key: the raw path after the route's prefix, percent-decoded strictly (an invalid escape,
 * or escapes that decode to invalid UTF-8 such as a lone surrogate, are a bad key).
 */
export function keyParameter(c: Context): string {
  const keySegment = c.req.routePath.split('/').findIndex((segment) => segment.startsWith(':key'))
  const raw = new URL(c.req.url).pathname.split('/').slice(keySegment).join('/')
  try {
    return decodeURIComponent(raw)
  } catch (error) {
    throw storeProblem(
      new InvalidKeyError('invalid-utf8', 'the key is not valid percent-encoded UTF-8', {
        cause: error,
      }),
    )
  }
}

/** Maps the store's typed errors to problem+json; anything else is left to app.onError. */
export function storeProblem(error: unknown, key?: string): unknown {
  const withKey = key === undefined ? {} : { key }
  if (error instanceof InvalidKeyError) {
    return new ProblemError(
      {
        slug: 'invalid-key',
        title: 'Invalid key',
        status: 400,
        detail: error.message,
        extensions: { reason: error.reason },
      },
      { cause: error },
    )
  }
  if (error instanceof ValueTooLargeError) {
    return new ProblemError(
      {
        slug: 'value-too-large',
        title: 'Value too large',
        status: 400,
        detail: error.message,
        extensions: { sizeBytes: error.sizeBytes, limitBytes: error.limitBytes },
      },
      { cause: error },
    )
  }
  if (error instanceof InvalidContentTypeError) {
    return new ProblemError(
      {
        slug: 'invalid-content-type',
        title: 'Invalid Content-Type',
        status: 400,
        detail: error.message,
      },
      { cause: error },
    )
  }
  if (error instanceof VersionMismatchError) {
    return new ProblemError(
      {
        slug: 'version-mismatch',
        title: 'Version mismatch',
        status: 412,
        detail: `expected ${error.expectedVersion}, found ${error.actualVersion ?? 'none'}`,
        extensions: {
          ...withKey,
          expectedVersion: error.expectedVersion,
          actualVersion: error.actualVersion ?? null,
        },
      },
      { cause: error },
    )
  }
  if (error instanceof StaleFenceError) {
    return new ProblemError(
      {
        slug: 'stale-fence',
        title: 'Stale fencing token',
        status: 409,
        detail: error.message,
        extensions: { ...withKey, fence: error.fence, recordedFence: error.recordedFence },
      },
      { cause: error },
    )
  }
  if (error instanceof KeyInTransactionError) {
    return new ProblemError(
      {
        slug: 'key-in-transaction',
        title: 'Key held by a transaction',
        status: 409,
        detail: `a prepared transaction holds the key; retry after it completes`,
        extensions: { ...withKey, transactionId: error.transactionId },
      },
      { cause: error },
    )
  }
  if (error instanceof KeyNotFoundError) {
    return new ProblemError(
      {
        slug: 'not-found',
        title: 'Not Found',
        status: 404,
        detail: 'the key has no value',
        extensions: withKey,
      },
      { cause: error },
    )
  }
  if (error instanceof QuorumNotReachedError) {
    return new ProblemError(
      {
        slug: 'replicas-unavailable',
        title: 'Not enough replicas answered',
        status: 503,
        detail: `${error.succeeded} of ${error.required} required replicas answered`,
      },
      { cause: error },
    )
  }
  if (error instanceof RegionUnavailableError) {
    return new ProblemError(
      {
        slug: 'region-unavailable',
        title: 'The key’s region is not answering',
        status: 503,
        detail: error.message,
        extensions: { region: error.region },
        headers: { 'retry-after': String(error.retryAfterSeconds) },
      },
      { cause: error },
    )
  }
  if (error instanceof RingChangingError) {
    return new ProblemError(
      {
        slug: 'ring-changing',
        title: 'The key is moving to another region',
        status: 503,
        detail: error.message,
        headers: { 'retry-after': '1' },
      },
      { cause: error },
    )
  }
  if (error instanceof RingMigrationInProgressError) {
    return new ProblemError(
      {
        slug: 'ring-migration-in-progress',
        title: 'A ring migration is running',
        status: 409,
        detail: error.message,
      },
      { cause: error },
    )
  }
  if (error instanceof RingChangeUnsupportedError) {
    return new ProblemError(
      {
        slug: 'ring-change-unsupported',
        title: 'This ring change cannot move data online',
        status: 409,
        detail: error.message,
      },
      { cause: error },
    )
  }
  if (error instanceof RingUnavailableError) {
    return new ProblemError(
      {
        slug: 'ring-unavailable',
        title: 'Ring config unavailable',
        status: 503,
        detail: error.message,
      },
      { cause: error },
    )
  }
  if (error instanceof RingVersionMismatchError) {
    return new ProblemError(
      {
        slug: 'ring-version-mismatch',
        title: 'Ring version mismatch',
        status: 412,
        detail: error.message,
        extensions: {
          expectedVersion: error.expectedVersion,
          actualVersion: error.actualVersion ?? null,
        },
      },
      { cause: error },
    )
  }
  if (error instanceof InvalidRingConfigError) {
    return new ProblemError(
      {
        slug: 'invalid-ring-config',
        title: 'Invalid ring config',
        status: 400,
        detail: error.message,
      },
      { cause: error },
    )
  }
  return error
}

/** The `{key}` parameter of /kv and /ring/owners: documented as one segment, routed as many. */
export const keyParams = z.object({
  key: z.string().openapi({
    description:
      'The key: everything after the prefix, percent-decoded as UTF-8 (1–1024 bytes). It may ' +
      'contain `/`, encoded as %2F or not, although an OpenAPI path template matches one segment.',
    example: 'orders/2024/0001',
  }),
})
const ifMatchDescription = 'Compare-and-swap: the ETag of the version being replaced'
const ifMatch = etagHeader.optional().openapi({ description: ifMatchDescription, example: '"3"' })
const fence = fenceValue.optional().openapi({
  description: 'A fencing token from /locks: the write fails if a higher one was recorded',
  example: '12',
})
const binary = z.string().openapi({ format: 'binary', description: 'The raw bytes of the value' })
const etagResponseHeader = {
  etag: { description: 'The version as an ETag, such as "3"', schema: { type: 'string' as const } },
}
const storeUnavailable = { 503: 'Not enough replicas answered (`replicas-unavailable`)' }

const getRoute = createRoute({
  method: 'get',
  path: '/{key}',
  summary: 'Read a value: its bytes, its Content-Type, and its version as the ETag',
  security: apiKeySecurity,
  request: {
    params: keyParams,
    headers: z.object({
      'if-none-match': etagHeader
        .or(anyRepresentation)
        .optional()
        .openapi({ description: 'Answer 304 if the current ETag is this one (or any, for *)' }),
    }),
  },
  responses: {
    200: {
      description: 'The value, with the Content-Type it was stored with',
      headers: etagResponseHeader,
      content: { '*/*': { schema: binary } },
    },
    304: { description: 'If-None-Match matches the current version', headers: etagResponseHeader },
    ...problemResponses({
      400: 'Invalid key (`invalid-key`) or If-None-Match (`invalid-if-none-match`)',
      ...accessProblems,
      404: 'The key has no value (`not-found`)',
      ...storeUnavailable,
    }),
  },
})

const putRoute = createRoute({
  method: 'put',
  path: '/{key}',
  summary: 'Store a value (raw bytes; their Content-Type is stored with them)',
  security: apiKeySecurity,
  request: {
    params: keyParams,
    headers: z.object({
      'if-match': ifMatch,
      'if-none-match': anyRepresentation
        .optional()
        .openapi({ description: 'Create only: `*` fails the write if the key has a value' }),
      [fenceHeader]: fence,
      // Declared so clients can set it; the store checks it (`invalid-content-type`).
      'content-type': z.string().optional().openapi({
        description:
          'Stored with the value and answered on reads (default application/octet-stream)',
        example: 'application/json',
      }),
    }),
    body: {
      description: 'The value, at most the store value limit',
      content: { '*/*': { schema: binary } },
    },
  },
  responses: {
    200: {
      description: 'Replaced',
      headers: etagResponseHeader,
      content: {
        'application/json': {
          schema: z.object({ key: z.string(), version: z.number().int() }).openapi('KvWrite'),
        },
      },
    },
    201: {
      description: 'Created',
      headers: etagResponseHeader,
      content: {
        'application/json': { schema: z.object({ key: z.string(), version: z.number().int() }) },
      },
    },
    ...problemResponses({
      400:
        'Invalid key (`invalid-key`), header (`invalid-if-match`, `invalid-if-none-match`, ' +
        '`invalid-fence`, `invalid-content-type`, `conflicting-preconditions`) or a value over ' +
        'the limit (`value-too-large`)',
      ...accessProblems,
      409: 'A higher fence was recorded (`stale-fence`) or a transaction holds the key (`key-in-transaction`)',
      412: 'The precondition failed (`version-mismatch`)',
      ...storeUnavailable,
    }),
  },
})

const deleteRoute = createRoute({
  method: 'delete',
  path: '/{key}',
  summary: 'Delete a value (leaves a tombstone at the next version)',
  security: apiKeySecurity,
  request: {
    params: keyParams,
    headers: z.object({ 'if-match': ifMatch, [fenceHeader]: fence }),
  },
  responses: {
    204: { description: 'Deleted', headers: etagResponseHeader },
    ...problemResponses({
      400: 'Invalid key (`invalid-key`) or header (`invalid-if-match`, `invalid-fence`)',
      ...accessProblems,
      404: 'The key has no value (`not-found`)',
      409: 'A higher fence was recorded (`stale-fence`) or a transaction holds the key (`key-in-transaction`)',
      412: 'The precondition failed (`version-mismatch`)',
      ...storeUnavailable,
    }),
  },
})

// When a declared header is bad, these re-run the checks in their original order (the key
// first) so the answer is the same specific problem as before the declarations.
const rejectGet = rejectWith((c) => {
  keyParameter(c)
  header(c, 'if-none-match', etagHeader.or(anyRepresentation), 'invalid-if-none-match')
})
const rejectPut = rejectWith((c) => {
  keyParameter(c)
  header(c, 'if-match', etagHeader, 'invalid-if-match')
  header(c, 'if-none-match', anyRepresentation, 'invalid-if-none-match')
  header(c, fenceHeader, fenceValue, 'invalid-fence')
})
const rejectDelete = rejectWith((c) => {
  keyParameter(c)
  header(c, 'if-match', etagHeader, 'invalid-if-match')
  header(c, fenceHeader, fenceValue, 'invalid-fence')
})

export function kvRoutes(service: KvService) {
  const app = openApiRouter()
  const routes = app
    .openapi(
      spanningLastParameter(app, getRoute, '.*'),
      async (c) => {
        const key = keyParameter(c)
        const ifNoneMatch = c.req.valid('header')['if-none-match']
        const item = await service.get(c.get('tenant'), key).catch((error) => {
          throw storeProblem(error, key)
        })
        const etag = etagOf(item.version)
        if (ifNoneMatch === '*' || ifNoneMatch === etag) {
          return c.body(null, 304, { etag })
        }
        return c.body(item.value as Uint8Array<ArrayBuffer>, 200, {
          'content-type': item.contentType,
          etag,
          'cache-control': 'no-cache',
        })
      },
      rejectGet,
    )
    .openapi(
      spanningLastParameter(app, putRoute, '.*'),
      async (c) => {
        const key = keyParameter(c)
        const headers = c.req.valid('header')
        const ifMatch = headers['if-match']
        const ifNoneMatch = headers['if-none-match']
        const fence = headers[fenceHeader]
        if (ifMatch !== undefined && ifNoneMatch !== undefined) {
          throw new ProblemError({
            slug: 'conflicting-preconditions',
            title: 'If-Match and If-None-Match together',
            status: 400,
          })
        }
        // Refuse an oversized body before reading it when its length is declared.
        const declaredLength = Number(c.req.header('content-length') ?? 0)
        if (declaredLength > valueSizeMaxBytes) {
          throw storeProblem(new ValueTooLargeError(declaredLength, valueSizeMaxBytes))
        }
        const value = new Uint8Array(await c.req.arrayBuffer())
        const contentType = c.req.header('content-type')
        const result = await service
          .put(c.get('tenant'), key, value, {
            ...(contentType !== undefined && { contentType }),
            ...(ifMatch !== undefined && { expectedVersion: versionOfEtag(ifMatch) }),
            ...(ifNoneMatch !== undefined && { expectedVersion: 'absent' as const }),
            ...(fence !== undefined && { fence: Number(fence) }),
          })
          .catch((error) => {
            throw storeProblem(error, key)
          })
        return c.json({ key, version: result.version }, result.created ? 201 : 200, {
          etag: etagOf(result.version),
        })
      },
      rejectPut,
    )
    .openapi(
      spanningLastParameter(app, deleteRoute, '.*'),
      async (c) => {
        const key = keyParameter(c)
        const headers = c.req.valid('header')
        const ifMatch = headers['if-match']
        const fence = headers[fenceHeader]
        const result = await service
          .delete(c.get('tenant'), key, {
            ...(ifMatch !== undefined && { expectedVersion: versionOfEtag(ifMatch) }),
            ...(fence !== undefined && { fence: Number(fence) }),
          })
          .catch((error) => {
            throw storeProblem(error, key)
          })
        return c.body(null, 204, { etag: etagOf(result.version) })
      },
      rejectDelete,
    )

  // /kv with no key at all (any method): not an operation, so neither in the document nor
  // in the client's type. Registered last, as before, so GET /kv/ still reaches the get route.
  app.all('/', () => {
    throw storeProblem(new InvalidKeyError('empty', 'a key has at least one byte'))
  })

  return routes
}
