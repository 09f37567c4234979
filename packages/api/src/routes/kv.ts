// /kv/:key: raw bytes in and out, versions as ETags. GET returns the value with its
// Content-Type and ETag `"<version>"`; PUT stores the body (If-Match: "<version>" for
// compare-and-swap, If-None-Match: * for create-only, Meridian-Fence: <token> for a write
// fenced by a lock); DELETE leaves a tombstone. The key is the rest of the path after /kv/,
// percent-decoded as UTF-8 by this module (not by the router, which would pass invalid
// escapes through unchanged), so a key may contain '/' (encoded or not).
import {
  InvalidContentTypeError,
  InvalidKeyError,
  InvalidRingConfigError,
  KeyInTransactionError,
  KeyNotFoundError,
  type KvService,
  QuorumNotReachedError,
  RingUnavailableError,
  RingVersionMismatchError,
  StaleFenceError,
  ValueTooLargeError,
  VersionMismatchError,
  valueSizeMaxBytes,
} from '@meridian/store'
import { type Context, Hono } from 'hono'
import { z } from 'zod'
import type { AppEnv } from '../app'
import { ProblemError } from '../problem'

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

export function kvRoutes(service: KvService) {
  const app = new Hono<AppEnv>()

  app.get('/:key{.*}', async (c) => {
    const key = keyParameter(c)
    const ifNoneMatch = header(
      c,
      'if-none-match',
      etagHeader.or(anyRepresentation),
      'invalid-if-none-match',
    )
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
  })

  app.put('/:key{.*}', async (c) => {
    const key = keyParameter(c)
    const ifMatch = header(c, 'if-match', etagHeader, 'invalid-if-match')
    const ifNoneMatch = header(c, 'if-none-match', anyRepresentation, 'invalid-if-none-match')
    const fence = header(c, fenceHeader, fenceValue, 'invalid-fence')
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
  })

  app.delete('/:key{.*}', async (c) => {
    const key = keyParameter(c)
    const ifMatch = header(c, 'if-match', etagHeader, 'invalid-if-match')
    const fence = header(c, fenceHeader, fenceValue, 'invalid-fence')
    const result = await service
      .delete(c.get('tenant'), key, {
        ...(ifMatch !== undefined && { expectedVersion: versionOfEtag(ifMatch) }),
        ...(fence !== undefined && { fence: Number(fence) }),
      })
      .catch((error) => {
        throw storeProblem(error, key)
      })
    return c.body(null, 204, { etag: etagOf(result.version) })
  })

  // /kv with no key at all.
  app.all('/', () => {
    throw storeProblem(new InvalidKeyError('empty', 'a key has at least one byte'))
  })

  return app
}
