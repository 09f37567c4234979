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
// forged id, a stale ring) costs a slower answer, never a wrong one: any API answers for
// any key through its own ring (and while a range moves, through the handover).
//
// Headers: the request carries `meridian-ring-version` (the version the edge routed by; an
// API with an older ring reloads it first); answers carry the API's `meridian-region` and
// `meridian-ring-version` (a newer one makes the edge reload), and the edge adds
// `meridian-edge-route` (the region it chose, or `home`).
import { Hono } from 'hono'
import { EdgeRing } from './edge-ring'

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

const keyIdPattern = /^Bearer mrd_([0-9a-f]{16})_/

export function createEdgeApp(options: EdgeOptions) {
  const homeUrl = options.regionUrls[options.homeRegion]
  if (!homeUrl) throw new Error(`no API URL for the home region ${options.homeRegion}`)
  const send = options.fetch ?? globalThis.fetch
  const ring = new EdgeRing({
    homeUrl,
    fetch: send,
    ...(options.ringStalenessMs !== undefined && { stalenessMs: options.ringStalenessMs }),
    ...(options.nowMs && { nowMs: options.nowMs }),
  })
  const tenants = new BoundedMap<string, string>(options.tenantsMax ?? 10_000)

  /** The region to send a request to; undefined for the home region. */
  async function regionFor(path: string, authorization: string | undefined, keyId?: string) {
    const key = /^\/kv\/([^/]+)$/.exec(path)?.[1]
    const tenant = keyId && tenants.get(keyId)
    if (!key || !authorization || !tenant) return undefined
    const loaded = await ring.current(authorization)
    if (!loaded) return undefined
    let decoded: string
    try {
      decoded = decodeURIComponent(key)
    } catch {
      return undefined
    }
    const owner = loaded.ring.preferenceList(`${tenant}#${decoded}`, 1)[0]?.region
    return owner && options.regionUrls[owner]
      ? { region: owner, version: loaded.version }
      : undefined
  }

  const app = new Hono()
  app.all('*', async (c) => {
    const request = c.req.raw
    const url = new URL(request.url)
    const authorization = request.headers.get('authorization') ?? undefined
    const keyId = authorization ? keyIdPattern.exec(authorization)?.[1] : undefined
    const route = await regionFor(url.pathname, authorization, keyId)
    const target = route ? options.regionUrls[route.region]! : homeUrl
    const headers = new Headers(request.headers)
    headers.delete('host')
    const routedVersion = route?.version ?? ring.version
    if (routedVersion !== undefined) headers.set('meridian-ring-version', String(routedVersion))
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
      return unavailable(route?.region ?? options.homeRegion)
    }
    const tenant = answer.headers.get('meridian-tenant')
    if (tenant && keyId && answer.status < 400) tenants.set(keyId, tenant)
    const apiVersion = Number(answer.headers.get('meridian-ring-version'))
    if (Number.isInteger(apiVersion)) ring.observe(apiVersion)
    const forwarded = new Headers(answer.headers)
    forwarded.set('meridian-edge-route', route?.region ?? 'home')
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

/** A Map that forgets its oldest entries beyond `max` (insertion order, refreshed on set). */
class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>()
  constructor(private readonly max: number) {}

  get(key: K): V | undefined {
    return this.entries.get(key)
  }

  set(key: K, value: V): void {
    this.entries.delete(key)
    this.entries.set(key, value)
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as K)
  }
}
