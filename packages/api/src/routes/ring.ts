// /ring: the ring handlers route by (GET: version as ETag, state, config, and a running
// migration's progress), a change (PUT with If-Match: "<version>": starts a migration that
// moves the keys whose owner changes, packages/store/src/ring-migration.ts), and where a
// key lives (GET /ring/owners/:key), and the ring as arcs of the hash space per node, for
// drawing (GET /ring/arcs).

import { createRoute, z } from '@hono/zod-openapi'
import { arcSegmentCountMax, ownershipArcs, ownershipShares, ringFromConfig } from '@meridian/ring'
import {
  type KvService,
  RingChangeUnsupportedError,
  type RingMigrationService,
  type RingStatus,
} from '@meridian/store'
import type { Context } from 'hono'
import { openApiRouter } from '../openapi'
import { ProblemError } from '../problem'
import { lastEventId, snapshotEventStream } from './job-events'
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
const ringStatusSchema = z
  .object({
    version: z.number().int(),
    state: z.enum(['stable', 'migrating']),
    config: ringConfigSchema,
    migration: z
      .object({
        phase: z.enum(['gating', 'moving']),
        from: z.number().int().openapi({ description: 'The stable version it started from' }),
        to: z.number().int().openapi({ description: 'The version once stable again' }),
        fromVersion: z.number().int(),
        startedAt: z.string(),
        ranges: z.object({ done: z.number().int(), total: z.number().int() }),
        keys: z.object({ moved: z.number().int(), scanned: z.number().int() }),
      })
      .optional(),
  })
  .openapi('RingStatus')
const etagResponseHeader = {
  etag: {
    description: 'The ring version as an ETag, such as "3"',
    schema: { type: 'string' as const },
  },
}
const ringUnavailable = { 503: 'The ring config could not be read (`ring-unavailable`)' }

const arcsQuery = z.object({
  segments: z.coerce
    .number()
    .int()
    .min(12)
    .max(arcSegmentCountMax)
    .default(360)
    .openapi({ type: 'integer', description: 'How finely the circle is cut (12..3600)' }),
})

const arcsRoute = createRoute({
  method: 'get',
  path: '/arcs',
  summary:
    "The ring as arcs of the hash space, one per run of a node's keys, and each node's share",
  security: apiKeySecurity,
  request: { query: arcsQuery },
  responses: {
    200: {
      description:
        'Arcs as fractions of the hash space ([start, end), in order, covering it once) of the ' +
        'config GET /ring shows; each node with its exact share of the hash space',
      content: {
        'application/json': {
          schema: z
            .object({
              version: z.number().int(),
              state: z.enum(['stable', 'migrating']),
              nodes: z.array(
                z.object({
                  id: z.string(),
                  region: z.string(),
                  weight: z.number(),
                  share: z.number(),
                }),
              ),
              arcs: z.array(z.object({ start: z.number(), end: z.number(), node: z.string() })),
            })
            .openapi('RingArcs'),
        },
      },
    },
    ...problemResponses({
      400: 'Invalid query (`invalid-request`)',
      ...accessProblems,
      ...ringUnavailable,
    }),
  },
})

const eventsQuery = z.object({
  timeoutSeconds: z.coerce.number().int().min(1).max(900).default(60),
  intervalMs: z.coerce.number().int().min(100).max(10_000).default(500),
})

const migrationEventsRoute = createRoute({
  method: 'get',
  path: '/migration/events',
  summary: 'Stream the ring status as server-sent events until it is stable, or the timeout',
  security: apiKeySecurity,
  request: { query: eventsQuery },
  responses: {
    200: {
      description:
        '`progress` events carry the ring status (as GET /ring) when it changes, with an id a ' +
        'reconnect sends back as Last-Event-ID; the stream ends with `end` (the ring is stable), ' +
        '`timeout` (timeoutSeconds) or, before the API function times out, `reconnect`',
      content: { 'text/event-stream': { schema: z.string() } },
    },
    ...problemResponses({
      400: 'Invalid query (`invalid-request`)',
      ...accessProblems,
      ...ringUnavailable,
    }),
  },
})

const getRingRoute = createRoute({
  method: 'get',
  path: '/',
  summary: 'The ring: its version (the ETag), state, config and any running migration',
  security: apiKeySecurity,
  responses: {
    200: {
      description: 'The ring status',
      headers: etagResponseHeader,
      content: { 'application/json': { schema: ringStatusSchema } },
    },
    ...problemResponses({ ...accessProblems, ...ringUnavailable }),
  },
})

const replaceRingRoute = createRoute({
  method: 'put',
  path: '/',
  summary:
    'Change the ring (If-Match: its current ETag): keys whose owner changes move online; the answer is 202 while they move',
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
    202: {
      description: 'The migration started; GET /ring (Location) shows its progress',
      headers: etagResponseHeader,
      content: { 'application/json': { schema: ringStatusSchema } },
    },
    ...problemResponses({
      400: 'Invalid If-Match (`invalid-if-match`), JSON (`invalid-json`) or ring (`invalid-ring-config`)',
      ...accessProblems,
      ...bodyProblems,
      409: 'A migration is running (`ring-migration-in-progress`), or this deployment has no migration queue (`ring-change-unsupported`)',
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

export function ringRoutes(service: KvService, migrations?: RingMigrationService) {
  // Without a migration service (no task queue wired) the ring can be read, not changed.
  const status = async (): Promise<RingStatus> => {
    if (migrations) return migrations.status()
    const config = await service.ringConfig()
    return { version: config.version, state: config.migration ? 'migrating' : 'stable', config }
  }
  const begin = (expectedVersion: number, config: Parameters<RingMigrationService['begin']>[1]) => {
    if (!migrations) {
      throw new RingChangeUnsupportedError('this deployment has no ring migration queue')
    }
    return migrations.begin(expectedVersion, config)
  }
  const app = openApiRouter()
  return app
    .openapi(getRingRoute, async (c) => {
      const current = await status().catch((error) => {
        throw storeProblem(error)
      })
      return c.json(current, 200, { etag: etagOf(current.version), 'cache-control': 'no-cache' })
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
        const started = await Promise.resolve()
          .then(() => begin(expectedVersion, config))
          .catch((error) => {
            throw storeProblem(error)
          })
        return c.json(started, 202, { etag: etagOf(started.version), location: '/ring' })
      },
      rejectReplace,
    )
    .openapi(arcsRoute, async (c) => {
      const { segments } = c.req.valid('query')
      const current = await status().catch((error) => {
        throw storeProblem(error)
      })
      const { migration: _migration, ...layout } = current.config
      const ring = ringFromConfig(layout)
      const shares = ownershipShares(ring)
      const nodes = ring.nodes.map(({ id, region, weight }) => ({
        id,
        region,
        weight,
        share: shares.get(id) ?? 0,
      }))
      const arcs = ownershipArcs(ring, segments)
      return c.json({ version: current.version, state: current.state, nodes, arcs }, 200, {
        etag: etagOf(current.version),
        'cache-control': 'no-cache',
      })
    })
    .openapi(
      migrationEventsRoute,
      async (c) => {
        const { timeoutSeconds, intervalMs } = c.req.valid('query')
        lastEventId(c)
        const first = await status().catch((error) => {
          throw storeProblem(error)
        })
        return snapshotEventStream(c, first, {
          timeoutSeconds,
          intervalMs,
          read: status,
          finished: (ring) => ring.state === 'stable',
          summary: (ring) => ({ state: ring.state, version: ring.version }),
        })
      },
      rejectWith((c) => {
        const query = eventsQuery.safeParse(c.req.query())
        if (!query.success) {
          throw new ProblemError({
            slug: 'invalid-request',
            title: 'Bad Request',
            status: 400,
            detail: z.prettifyError(query.error),
          })
        }
      }),
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
