// The Hono app: routes mounted from feature modules, one error handler that turns every
// failure into problem+json, and a problem+json 404. It speaks Web Request/Response only;
// functions/api.ts adapts it to Lambda and packages/local serves it with Node.

import type { LockService } from '@meridian/lock'
import type { JobService } from '@meridian/mapreduce'
import type { KvService, RingMigrationService } from '@meridian/store'
import type { TransactionService } from '@meridian/txn'
import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import type { ApiKeyStore } from './auth/api-key-store'
import type { Principal } from './auth/api-keys'
import type { Authenticator } from './auth/authenticator'
import { authentication } from './auth/middleware'
import { type EngineProbe, healthRoutes } from './health'
import type { RateLimiter } from './limits/rate-limiter'
import { observability, outcomeMetrics, type RequestLog } from './observability'
import { openApiRouter } from './openapi'
import { ProblemError, problemResponse, problemType } from './problem'
import {
  isForwarded,
  type RegionalMode,
  regionalPublicForwarding,
  regionalRouting,
} from './regional'
import { adminRoutes } from './routes/admin'
import { jobRoutes } from './routes/jobs'
import { kvRoutes } from './routes/kv'
import { lockRoutes } from './routes/locks'
import { type RegionViews, regionRoutes } from './routes/regions'
import { ringRoutes } from './routes/ring'
import { txnRoutes } from './routes/txn'
import { webPaths, webRoutes } from './web'

/**
 * Every route runs for one tenant; storage is namespaced by it (each package takes the
 * tenant with the operation). With `security` wired, the tenant is the API key's; an app
 * built without it (a feature's own tests) runs everything as the `default` tenant.
 */
export const defaultTenant = 'default'

export interface AppEnv {
  Variables: { tenant: string; principal?: Principal }
}

/** Largest request body a route accepts; bigger job inputs go straight to S3. */
export const requestBodyBytesMax = 1024 * 1024
/** Job input uploads may be larger, within Lambda's 6 MB request payload limit. */
export const uploadBodyBytesMax = 5 * 1024 * 1024

export function requestBodyBytesMaxFor(path: string): number {
  const upload = path.startsWith('/jobs/inputs/') || path.startsWith('/jobs/incoming/')
  return upload ? uploadBodyBytesMax : requestBodyBytesMax
}

/**
 * What the routes need. Each feature adds its service as an optional field and mounts its
 * routes only when present, so a test builds an app with just what it exercises;
 * functions/api.ts wires the AWS implementations of all of them.
 */
export interface AppDependencies {
  probes: readonly EngineProbe[]
  /** Where unexpected errors are reported; the response never carries their details. */
  logError?: (error: unknown) => void
  /** One structured line per request (ids, route, status, duration; never secrets). */
  logRequest?: (entry: RequestLog) => void
  /** API keys, scopes and the per-key rate limit; functions/api.ts always wires it. */
  security?: { authenticator: Authenticator; keyStore: ApiKeyStore; rateLimiter?: RateLimiter }
  /** The KV service: mounts /kv, and with ringMigrations /ring. */
  kv?: KvService
  /** Ring changes that move data online (needs kv). */
  ringMigrations?: RingMigrationService
  /** The store regions' failure detector: mounts /regions. */
  regions?: { detector: RegionViews; names: readonly string[] }
  /** The lock service: mounts /locks. */
  locks?: LockService
  /** The transaction service: mounts /txn. */
  transactions?: TransactionService
  /** The MapReduce job service: mounts /jobs. */
  jobs?: JobService
  /** The region this API runs in: every answer names it (`meridian-region`). */
  servedRegion?: string
  /**
   * A regional API of the edge tier (needs kv, security and servedRegion): serves the `/kv`
   * keys of its own region and sends every other request to the home region's API
   * (regional.ts). Absent for the home region's API, which serves everything.
   */
  regional?: RegionalMode
}

export function createApp(dependencies: AppDependencies) {
  const regional = dependencies.regional
  if (regional && !(dependencies.kv && dependencies.security && dependencies.servedRegion)) {
    throw new Error('a regional API needs kv, security and servedRegion')
  }
  const app = openApiRouter()
  app.use('*', observability(dependencies.logRequest))
  app.use('*', outcomeMetrics())
  app.use('*', edgeHeaders(dependencies))
  // Public: health, the API's own documentation and the dashboard page (its API calls carry
  // a key). Everything after needs a key.
  const regionViews = dependencies.regions
  app.route(
    '/health',
    healthRoutes(
      dependencies.probes,
      regionViews && (() => regionViews.names.map((name) => regionViews.detector.view(name))),
    ),
  )
  if (regional) {
    // The documentation describes the home API's routes: a regional API sends it from there.
    const publicPaths = new Set<string>(['/openapi.json', ...webPaths])
    app.use('*', regionalPublicForwarding(regional, dependencies.servedRegion!, publicPaths))
  } else {
    app.doc31('/openapi.json', {
      openapi: '3.1.0',
      info: {
        title: 'Meridian',
        version: '1.0.0',
        description: 'Distributed-systems primitives on AWS serverless.',
      },
    })
    app.route('/', webRoutes('/openapi.json'))
  }
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
  })

  app.use('*', (c, next) => {
    // GET and HEAD carry no body (the Fetch spec forbids one), and a declared length
    // without chunking decides at once, as bodyLimit itself would (the HTTP parser reads no
    // more than it). Asking bodyLimit first makes @hono/node-server build a full Web Request
    // and body stream: about 4% of a GET's CPU under load and 8% of a PUT's.
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next()
    const maxSize = requestBodyBytesMaxFor(c.req.path)
    const declaredLength = c.req.header('content-length')
    if (declaredLength !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number.parseInt(declaredLength, 10) <= maxSize) return next()
    }
    return bodyLimit({
      maxSize,
      onError: () => {
        // A KV value that large is over the value limit too: answer as the store would.
        if (c.req.path.startsWith('/kv/')) {
          throw new ProblemError({
            slug: 'value-too-large',
            title: 'Value too large',
            status: 400,
            detail: `The request body is over ${maxSize} bytes, far above the value limit.`,
          })
        }
        throw new ProblemError({
          slug: 'payload-too-large',
          title: 'Payload Too Large',
          status: 413,
          detail: `Request bodies here are limited to ${maxSize} bytes.`,
        })
      },
    })(c, next)
  })
  const security = dependencies.security
  if (security) {
    app.use('*', authentication(security.authenticator))
    if (regional)
      app.use('*', regionalRouting(regional, dependencies.kv!, dependencies.servedRegion!))
    if (security.rateLimiter) app.use('*', rateLimit(security.rateLimiter))
    app.route('/admin', adminRoutes(security.keyStore, security.authenticator))
  } else {
    app.use('*', async (c, next) => {
      c.set('tenant', defaultTenant)
      await next()
    })
  }
  if (dependencies.kv) {
    app.route('/kv', kvRoutes(dependencies.kv))
    app.route('/ring', ringRoutes(dependencies.kv, dependencies.ringMigrations))
  }
  if (dependencies.regions) {
    app.route('/regions', regionRoutes(dependencies.regions.detector, dependencies.regions.names))
  }
  if (dependencies.locks) app.route('/locks', lockRoutes(dependencies.locks))
  if (dependencies.transactions) app.route('/txn', txnRoutes(dependencies.transactions))
  if (dependencies.jobs) app.route('/jobs', jobRoutes(dependencies.jobs))

  app.notFound((c) =>
    problemResponse({
      type: problemType('not-found'),
      title: 'Not Found',
      status: 404,
      detail: `No route for ${c.req.method} ${c.req.path}`,
    }),
  )

  app.onError((error, c) => {
    if (error instanceof ProblemError) {
      return problemResponse({ ...error.problem, instance: c.req.path }, error.headers)
    }
    if (error instanceof HTTPException) {
      return problemResponse({
        type: problemType(error.status === 413 ? 'payload-too-large' : 'bad-request'),
        title: error.message || 'Bad Request',
        status: error.status,
        instance: c.req.path,
      })
    }
    dependencies.logError?.(error)
    return problemResponse({
      type: problemType('internal'),
      title: 'Internal Server Error',
      status: 500,
      instance: c.req.path,
    })
  })
  return app
}

export type App = ReturnType<typeof createApp>

function rateLimit(limiter: RateLimiter): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get('principal')
    if (principal && !(await limiter.tryConsume(principal.keyId, Date.now()))) {
      throw new ProblemError({
        headers: { 'retry-after': '1' },
        slug: 'rate-limited',
        title: 'Too Many Requests',
        status: 429,
        detail: 'This API key is over its request rate; retry after a second.',
      })
    }
    await next()
  }
}

/** At most one ring reload per this interval because a request named a newer version. */
export const ringHintReloadIntervalMs = 250

/**
 * What the edge tier (packages/edge) reads and sends. Answers name the region that served
 * them (`meridian-region`), the ring version KV routing used (`meridian-ring-version`) and,
 * once authenticated, the key's tenant (`meridian-tenant`: the edge routes a key by
 * `tenant#key`). A KV request routed by a newer ring than this instance's (the edge's
 * `meridian-ring-version`) reloads the ring first, so a fresh edge never meets a stale API.
 */
function edgeHeaders(dependencies: AppDependencies): MiddlewareHandler {
  // The version a request names is the caller's word, read before auth: reloading on every
  // request that names a newer one would let anyone cost a DynamoDB read per request. At
  // most one hint-driven reload per interval (an honest edge is at most one change ahead;
  // stores refuse a stale ring anyway, so a later reload costs time, not correctness).
  let lastHintReloadMs = Number.NEGATIVE_INFINITY
  return async (c, next) => {
    const kv = dependencies.kv
    const routesByRing =
      kv !== undefined && (c.req.path.startsWith('/kv/') || c.req.path === '/ring')
    if (routesByRing) {
      const wanted = Number(c.req.header('meridian-ring-version'))
      if (Number.isInteger(wanted) && wanted > (await kv.ringConfig()).version) {
        // Checked and set with no await between, so concurrent requests reload once.
        const nowMs = Date.now()
        if (nowMs - lastHintReloadMs >= ringHintReloadIntervalMs) {
          lastHintReloadMs = nowMs
          await kv.ringCache.refresh().catch(() => undefined)
        }
      }
    }
    await next()
    try {
      if (isForwarded(c)) {
        // The home API served it and named itself; pass on the newer of the two rings.
        const home = Number(c.res.headers.get('meridian-ring-version'))
        const local = kv ? (await kv.ringConfig().catch(() => undefined))?.version : undefined
        const newest = Math.max(Number.isInteger(home) ? home : 0, local ?? 0)
        if (routesByRing && newest > 0) c.res.headers.set('meridian-ring-version', String(newest))
        return
      }
      if (dependencies.servedRegion) c.res.headers.set('meridian-region', dependencies.servedRegion)
      if (routesByRing)
        c.res.headers.set('meridian-ring-version', String((await kv.ringConfig()).version))
      const tenant = c.get('tenant' as never) as string | undefined
      if (tenant) c.res.headers.set('meridian-tenant', tenant)
    } catch {
      // A streamed answer's headers are already sent: nothing to add.
    }
  }
}
