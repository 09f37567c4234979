// The edge handler. Every request enters here and is forwarded, unchanged, to one API:
// `/kv/:key` to the API in the region that owns the key under the ring, everything else
// (locks, transactions, jobs, admin keys, the ring itself) to the home region's API,
// where that state lives. The edge does not authenticate: each API does, on every request,
// so no path bypasses auth, and the edge makes no DynamoDB call at all.
//
// Routing a key needs its storage key, `${tenant}#${key}`, and the tenant belongs to the
// API key. The edge learns it from the `meridian-tenant` header an API puts on each
// authenticated answer, by key id (the public part of `mrd_<id>_<secret>`): a key's first
// request goes to the home region, later ones straight to the owner. A wrong guess (a
// forged id, a stale ring) costs a slower answer, never a wrong one: a regional API that
// does not own the key sends the request to the home API, which answers for every key
// (and while a range moves, through the handover); the routing is edge-router.ts.
//
// Headers: the request carries `meridian-ring-version` (the version the edge routed by; an
// API with an older ring reloads it first); answers carry the API's `meridian-region` and
// `meridian-ring-version` (a newer one makes the edge reload), and the edge adds
// `meridian-edge-route` (the region it chose, or `home`).
import { Hono } from 'hono'
import { EdgeRouter } from './edge-router'

export interface EdgeOptions {
  homeRegion: string
  /** The API's base URL in each region (the home region's among them). */
  regionUrls: Readonly<Record<string, string>>
  /** How long a ring config is used before it is reloaded (default 5 s). */
  ringStalenessMs?: number
  /** Key ids whose tenant is remembered (default 10,000, oldest forgotten first). */
  tenantsMax?: number
  fetch?: typeof fetch
  nowMs?: () => number
}

export function createEdgeApp(options: EdgeOptions) {
  const homeUrl = options.regionUrls[options.homeRegion]
  if (!homeUrl) throw new Error(`no API URL for the home region ${options.homeRegion}`)
  const send = options.fetch ?? globalThis.fetch
  // This edge sees every answer, so a key's first request (sent home) teaches its tenant.
  const router = new EdgeRouter({
    homeRegion: options.homeRegion,
    homeUrl,
    regions: Object.keys(options.regionUrls),
    fetch: send,
    ...(options.ringStalenessMs !== undefined && { ringStalenessMs: options.ringStalenessMs }),
    ...(options.tenantsMax !== undefined && { tenantsMax: options.tenantsMax }),
    ...(options.nowMs && { nowMs: options.nowMs }),
  })

  const app = new Hono()
  app.all('*', async (c) => {
    const request = c.req.raw
    const url = new URL(request.url)
    const authorization = request.headers.get('authorization') ?? undefined
    const route = await router.route(url.pathname, authorization)
    const target = route.region ? options.regionUrls[route.region]! : homeUrl
    const headers = new Headers(request.headers)
    headers.delete('host')
    if (route.ringVersion !== undefined)
      headers.set('meridian-ring-version', String(route.ringVersion))
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD'
    let answer: Response
    try {
      answer = await send(`${target}${url.pathname}${url.search}`, {
        method: request.method,
        headers,
        ...(hasBody && { body: await request.arrayBuffer() }),
        redirect: 'manual',
      })
    } catch {
      return unavailable(route.region ?? options.homeRegion)
    }
    const tenant = answer.headers.get('meridian-tenant')
    if (tenant && authorization && answer.status < 400) router.learnTenant(authorization, tenant)
    const apiVersion = Number(answer.headers.get('meridian-ring-version'))
    if (Number.isInteger(apiVersion)) router.observe(apiVersion)
    const forwarded = new Headers(answer.headers)
    forwarded.set('meridian-edge-route', route.region ?? 'home')
    return new Response(answer.body, {
      status: answer.status,
      statusText: answer.statusText,
      headers: forwarded,
    })
  })
  return app
}

/** The API the request was for did not answer: a clear 503 naming its region. */
function unavailable(region: string): Response {
  const body = {
    type: 'urn:meridian:problem:region-unavailable',
    title: 'Region unavailable',
    status: 503,
    detail: `The API in ${region} did not answer; retry shortly.`,
    region,
  }
  return new Response(JSON.stringify(body), {
    status: 503,
    headers: {
      'content-type': 'application/problem+json',
      'retry-after': '1',
      'meridian-edge-route': region,
    },
  })
}
