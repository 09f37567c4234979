// A regional API (the edge tier's API in a non-home store region) serves one thing itself:
// a `/kv/:key` request whose key lives in its region alone while the ring is stable. It
// holds only its own region's store table, so everything else goes to the home region's
// API, which has every table and runs the migration handover:
// - `/kv/:key` for a key another region owns (a stale edge, a client calling the wrong
//   regional URL), or any key while the ring migrates, or with R > 1 (replicas are in
//   distinct regions, so never all here);
// - every other route (locks, transactions, jobs, admin, the ring itself): their state is
//   in the home region, and a regional copy of those routes would only add a hop to it;
// - the public documentation pages (so a regional URL answers as the edge does).
// The request is authenticated here first (so a call without a valid key gets the same 401
// as through the edge, and the tenant is known for the ownership check); the home API
// authenticates it again and rate-limits it, so a request is counted once, by the API
// that serves it. A request the regional API began to serve and then met a ring change
// (RegionNotServedError: the new owner's table is not here) had no effect yet, and is sent
// home too. The answer carries the newer of the two ring versions, so an edge that routed by
// an older ring reloads it.
import {
  InvalidKeyError,
  type KvService,
  RegionNotServedError,
  RingUnavailableError,
} from '@meridian/store'
import type { Context, MiddlewareHandler } from 'hono'
import type { AppEnv } from './app'
import { ProblemError } from './problem'

export interface RegionalMode {
  /**
   * Sends a request to the home region's API (`pathAndQuery` such as `/kv/a?x=1`) and returns
   * its answer; functions/ wires a fetch to its URL. `init` keeps method, headers and body.
   */
  forwardHome(pathAndQuery: string, init: RequestInit): Promise<Response>
}

/** Names the regional API that forwarded a request (for logs at home; never trusted). */
export const forwardedFromHeader = 'meridian-forwarded-from'

/** Whether the answer on `c` came from the home API (edgeHeaders then keeps its headers). */
export function isForwarded(c: Context): boolean {
  return c.get('forwarded' as never) === true
}

/** Sends `c`'s request home and makes the answer `c`'s response. */
async function forward(c: Context, mode: RegionalMode, servedRegion: string): Promise<Response> {
  const request = c.req.raw
  const url = new URL(request.url)
  const headers = new Headers(request.headers)
  headers.delete('host')
  headers.delete('content-length')
  headers.set(forwardedFromHeader, servedRegion)
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD'
  let answer: Response
  try {
    answer = await mode.forwardHome(`${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      // Hono caches the body it read, so a route that began to serve it left it here.
      ...(hasBody && { body: await c.req.arrayBuffer() }),
      redirect: 'manual',
    })
  } catch (error) {
    throw new ProblemError(
      {
        slug: 'home-unavailable',
        title: 'The home region is not answering',
        status: 503,
        detail: `The ${servedRegion} API sends this request to the home region, which did not answer; retry shortly.`,
        headers: { 'retry-after': '1' },
      },
      { cause: error },
    )
  }
  c.set('forwarded' as never, true as never)
  return new Response(answer.body, {
    status: answer.status,
    statusText: answer.statusText,
    headers: new Headers(answer.headers),
  })
}

/** Public pages a regional API does not serve itself: they go home unauthenticated. */
export function regionalPublicForwarding(
  mode: RegionalMode,
  servedRegion: string,
  publicPaths: ReadonlySet<string>,
): MiddlewareHandler {
  return async (c, next) => {
    if (!publicPaths.has(c.req.path)) return next()
    return forward(c, mode, servedRegion)
  }
}

/** The key of a `/kv/...` path, or undefined for another path or a key that does not decode. */
function kvKey(path: string): string | undefined {
  if (!path.startsWith('/kv/')) return undefined
  try {
    return decodeURIComponent(path.slice('/kv/'.length))
  } catch {
    return undefined
  }
}

/**
 * Whether this API serves the request itself: a `/kv/:key` whose replicas are all here
 * under a stable ring. A key that is not valid is answered here too (400, no store call);
 * a ring that cannot be read sends the request home.
 */
async function servesHere(
  c: Context<AppEnv>,
  kv: KvService,
  servedRegion: string,
): Promise<boolean> {
  const path = c.req.path
  if (!path.startsWith('/kv/')) return false
  const key = kvKey(new URL(c.req.url).pathname)
  if (key === undefined) return true
  try {
    const placement = await kv.placement(c.get('tenant'), key)
    return !placement.migrating && placement.regions.every((region) => region === servedRegion)
  } catch (error) {
    if (error instanceof InvalidKeyError) return true
    if (error instanceof RingUnavailableError) return false
    throw error
  }
}

/** After authentication: serve an owned `/kv` key here, send everything else home. */
export function regionalRouting(
  mode: RegionalMode,
  kv: KvService,
  servedRegion: string,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!(await servesHere(c, kv, servedRegion))) return forward(c, mode, servedRegion)
    await next()
    const error = c.error
    const cause = error instanceof ProblemError ? error.cause : error
    if (cause instanceof RegionNotServedError) {
      const forwarded = await forward(c, mode, servedRegion)
      c.error = undefined
      // Unset first: Hono's setter would copy the problem answer's headers onto the new one.
      c.res = undefined as unknown as Response
      c.res = forwarded
    }
  }
}
