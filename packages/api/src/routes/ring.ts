// /ring: the ring config handlers route by (GET, with its version as ETag), its replacement
// (PUT with If-Match: "<version>", one conditional write; other handlers pick it up within
// the ring cache's staleness bound), and where a key lives (GET /ring/owners/:key).

import { createRoute, z } from '@hono/zod-openapi'
import type { KvService } from '@meridian/store'
import type { Context } from 'hono'
import { openApiRouter } from '../openapi'
import { ProblemError } from '../problem'
import { etagOf, keyParameter, keyParams, storeProblem } from './kv'
import {
  accessProblems,
  apiKeySecurity,
  bodyProblems,
  jsonBodyDocumentation,
  problemResponses,
  readJsonBody,
  rejectWith,
  spanningLastParameter,
} from './route-declarations'

const nodeSchema = z.strictObject({
  id: z.string().min(1).max(128),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-[0-9]+$/, 'an AWS region such as us-east-1'),
  zone: z.string().min(1).max(64).optional(),
  weight: z.number().positive().max(1_000_000),
})

// Options beyond `nodes` (if the ring defines any) pass through to the ring's own validation.
const ringBodySchema = z.looseObject({
  nodes: z.array(nodeSchema).min(1).max(10_000),
  version: z.number().int().optional(),
})

const ifMatchSchema = z.string().regex(/^"(0|[1-9][0-9]{0,14})"$/, 'an ETag such as "3"')

const ringConfigSchema = z
  .looseObject({ nodes: z.array(nodeSchema).readonly(), version: z.number().int() })
  .openapi('RingConfig')
const etagResponseHeader = {
  etag: {
    description: 'The ring version as an ETag, such as "3"',
    schema: { type: 'string' as const },
  },
}
const ringUnavailable = { 503: 'The ring config could not be read (`ring-unavailable`)' }

const getRingRoute = createRoute({
  method: 'get',
  path: '/',
  summary: 'The ring config handlers route keys by, with its version as the ETag',
  security: apiKeySecurity,
  responses: {
    200: {
      description: 'The ring config',
      headers: etagResponseHeader,
      content: { 'application/json': { schema: ringConfigSchema } },
    },
    ...problemResponses({ ...accessProblems, ...ringUnavailable }),
  },
})

const replaceRingRoute = createRoute({
  method: 'put',
  path: '/',
  summary: 'Replace the ring config in one conditional write (If-Match: its current ETag)',
  security: apiKeySecurity,
  request: {
    // Required, but a missing one is a 428 rather than a 400: see rejectReplace.
    headers: z.object({
      'if-match': ifMatchSchema.openapi({
        description: 'The ETag of the ring config being replaced',
        example: '"3"',
      }),
    }),
    body: jsonBodyDocumentation(ringBodySchema, 'The new ring (a version in it is ignored)'),
  },
  responses: {
    200: {
      description: 'The stored ring config, at the next version',
      headers: etagResponseHeader,
      content: { 'application/json': { schema: ringConfigSchema } },
    },
    ...problemResponses({
      400: 'Invalid If-Match (`invalid-if-match`), JSON (`invalid-json`) or ring (`invalid-ring-config`)',
      ...accessProblems,
      ...bodyProblems,
      412: 'The ring changed since that ETag (`ring-version-mismatch`)',
      428: 'If-Match is missing (`precondition-required`)',
      ...ringUnavailable,
    }),
  },
})

const ownersRoute = createRoute({
  method: 'get',
  path: '/owners/{key}',
  summary: 'Where a key lives: its storage key and the nodes that hold it, in preference order',
  security: apiKeySecurity,
  request: { params: keyParams },
  responses: {
    200: {
      description: 'The owners',
      content: {
        'application/json': {
          schema: z.object({
            key: z.string(),
            storageKey: z.string(),
            ringVersion: z.number().int(),
            owners: z.array(nodeSchema),
          }),
        },
      },
    },
    ...problemResponses({
      400: 'Invalid key (`invalid-key`)',
      ...accessProblems,
      ...ringUnavailable,
    }),
  },
})

/** The If-Match checks, in order: missing is a 428, malformed a 400. */
function expectedRingVersion(c: Context): number {
  const ifMatch = c.req.header('if-match')
  if (ifMatch === undefined) {
    throw new ProblemError({
      slug: 'precondition-required',
      title: 'If-Match required',
      status: 428,
      detail: 'send If-Match with the ETag of the ring config being replaced',
    })
  }
  const parsedIfMatch = ifMatchSchema.safeParse(ifMatch.trim())
  if (!parsedIfMatch.success) {
    throw new ProblemError({
      slug: 'invalid-if-match',
      title: 'Invalid If-Match header',
      status: 400,
    })
  }
  return Number(parsedIfMatch.data.slice(1, -1))
}

const rejectReplace = rejectWith((c) => expectedRingVersion(c))

export function ringRoutes(service: KvService) {
  const app = openApiRouter()
  return app
    .openapi(getRingRoute, async (c) => {
      const config = await service.ringConfig().catch((error) => {
        throw storeProblem(error)
      })
      return c.json(config, 200, { etag: etagOf(config.version), 'cache-control': 'no-cache' })
    })
    .openapi(
      replaceRingRoute,
      async (c) => {
        const expectedVersion = expectedRingVersion(c)
        const body = ringBodySchema.safeParse(await readJsonBody(c))
        if (!body.success) {
          throw new ProblemError({
            slug: 'invalid-ring-config',
            title: 'Invalid ring config',
            status: 400,
            detail: z.prettifyError(body.error),
          })
        }
        const { version: _ignored, ...config } = body.data
        const stored = await service.replaceRing(expectedVersion, config).catch((error) => {
          throw storeProblem(error)
        })
        return c.json(stored, 200, { etag: etagOf(stored.version) })
      },
      rejectReplace,
    )
    .openapi(
      spanningLastParameter(app, ownersRoute, '.*'),
      async (c) => {
        const key = keyParameter(c)
        const owners = await service.owners(c.get('tenant'), key).catch((error) => {
          throw storeProblem(error, key)
        })
        return c.json({ key, ...owners }, 200)
      },
      // The key parameter accepts any text; keyParameter decodes and checks it.
    )
}
