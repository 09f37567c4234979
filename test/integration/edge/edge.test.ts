// The edge tier on the real engines: one API per region (the real app, each with its own
// ring cache, as separate deployments have), an edge in front that forwards by URL, and the
// API keys and store tables in DynamoDB Local. The edge reaches the APIs through an
// in-process fetch (a URL per region), so a region can be taken away.
import {
  Authenticator,
  createApp,
  DynamoApiKeyStore,
  ringHintReloadIntervalMs,
} from '@meridian/api'
import { dynamoClient } from '@meridian/aws'
import { createEdgeApp } from '@meridian/edge'
import { describe, expect, it } from 'vitest'
import { adminKey, bearer, createKey, expectProblem, uniqueTenant } from '../api/support'
import { coordinationTableName, migratingRing, regions } from '../store/support'

const home = regions[0]!
const urlOf = (region: string) => `http://api.${region}.test`

async function topology(options: { ringStalenessMs?: number } = {}) {
  const ring = await migratingRing()
  const keyStore = new DynamoApiKeyStore(dynamoClient(), coordinationTableName())
  const down = new Set<string>()
  const served: string[] = []
  const apis = Object.fromEntries(
    regions.map((region) => {
      const kv = region === home ? ring.kv : ring.handler()
      const app = createApp({
        probes: [],
        servedRegion: region,
        security: {
          keyStore,
          authenticator: new Authenticator({ store: keyStore, bootstrapAdminKey: adminKey() }),
        },
        kv,
        ...(region === home && { ringMigrations: ring.migrations }),
      })
      return [region, app] as const
    }),
  )
  const edgeFetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input))
    const region = regions.find((candidate) => urlOf(candidate) === url.origin)
    if (!region || down.has(region)) throw new TypeError('fetch failed')
    served.push(region)
    return apis[region]!.request(`${url.pathname}${url.search}`, init)
  }
  const edge = createEdgeApp({
    homeRegion: home,
    regionUrls: Object.fromEntries(regions.map((region) => [region, urlOf(region)])),
    fetch: edgeFetch as typeof fetch,
    ...(options.ringStalenessMs !== undefined && { ringStalenessMs: options.ringStalenessMs }),
  })
  return { ring, apis, edge, down, served }
}

describe('the edge tier', () => {
  it('serves every KV request for 1,000 keys in the region GET /ring/owners names', async () => {
    const { edge } = await topology()
    const { key } = await createKey(uniqueTenant('edge'), ['kv:read', 'kv:write'])
    const auth = bearer(key)
    // The key's first request teaches the edge its tenant (answered by the home region).
    const first = await edge.request('/kv/warm-up', { method: 'PUT', headers: auth, body: 'w' })
    expect(first.status).toBe(201)
    expect(first.headers.get('meridian-edge-route')).toBe('home')
    expect(first.headers.get('meridian-tenant')).toBeTruthy()

    const servedBy = new Map<string, number>()
    const check = async (name: string) => {
      const owner = await edge.request(`/ring/owners/${name}`, { headers: auth })
      expect(owner.status).toBe(200)
      const ownerRegion = ((await owner.json()) as { owners: Array<{ region: string }> }).owners[0]!
        .region
      const put = await edge.request(`/kv/${name}`, { method: 'PUT', headers: auth, body: name })
      expect(put.status).toBe(201)
      const read = await edge.request(`/kv/${name}`, { headers: auth })
      expect(await read.text()).toBe(name)
      for (const answer of [put, read]) {
        expect(answer.headers.get('meridian-edge-route')).toBe(ownerRegion)
        expect(answer.headers.get('meridian-region')).toBe(ownerRegion)
        expect(Number(answer.headers.get('meridian-ring-version'))).toBeGreaterThan(0)
      }
      servedBy.set(ownerRegion, (servedBy.get(ownerRegion) ?? 0) + 1)
    }
    const names = Array.from({ length: 1_000 }, (_, index) => `key-${index}`)
    for (let start = 0; start < names.length; start += 16)
      await Promise.all(names.slice(start, start + 16).map(check))
    // Every region owns a share and served it.
    expect([...servedBy.keys()].sort()).toEqual([...regions].sort())
  })

  it('answers correctly from a stale edge while the ring changes, then follows the new ring', async () => {
    const { edge, ring } = await topology({ ringStalenessMs: 3_600_000 })
    const { key } = await createKey(uniqueTenant('edge-stale'), ['kv:read', 'kv:write'])
    const auth = bearer(key)
    await edge.request('/kv/warm-up', { method: 'PUT', headers: auth, body: 'w' })
    const names = Array.from({ length: 60 }, (_, index) => `moving-${index}`)
    for (const name of names) {
      expect(
        (await edge.request(`/kv/${name}`, { method: 'PUT', headers: auth, body: '1' })).status,
      ).toBe(201)
    }
    // Drain one region: its keys move to the others while the edge still routes by the old ring.
    const drained = regions[2]!
    const before = await ring.migrations.status()
    await ring.migrations.begin(before.version, {
      nodes: before.config.nodes.filter((node) => node.region !== drained),
    })
    while (ring.inbox.pending.length > 0) await ring.migrations.run(ring.inbox.pending.shift()!)
    expect((await ring.migrations.status()).state).toBe('stable')

    let routedToDrained = 0
    for (const name of names) {
      const read = await edge.request(`/kv/${name}`, { headers: auth })
      expect(read.status).toBe(200)
      expect(await read.text()).toBe('1')
      if (read.headers.get('meridian-edge-route') === drained) routedToDrained++
      const write = await edge.request(`/kv/${name}`, {
        method: 'PUT',
        headers: { ...auth, 'if-match': '"1"' },
        body: '2',
      })
      expect(write.status).toBe(200)
    }
    // The first answer carried the newer ring version: the edge reloaded and stopped
    // sending keys to the drained region.
    expect(routedToDrained).toBeLessThanOrEqual(1)
    for (const name of names) {
      const read = await edge.request(`/kv/${name}`, { headers: auth })
      expect(await read.text()).toBe('2')
      expect(read.headers.get('meridian-edge-route')).not.toBe(drained)
    }
  })

  it('holds the auth matrix through the edge and directly at every regional API', async () => {
    const { edge, apis } = await topology()
    const reader = await createKey(uniqueTenant('edge-auth'), ['kv:read'])
    const entries: Array<
      [string, { request: (path: string, init?: RequestInit) => Response | Promise<Response> }]
    > = [
      ['edge', edge],
      ...regions.map((region) => [region, apis[region]!] as [string, (typeof apis)[string]]),
    ]
    for (const [, entry] of entries) {
      expect((await entry.request('/kv/anything')).status).toBe(401)
      const forged = `mrd_${'0'.repeat(16)}_${'A'.repeat(43)}`
      expect((await entry.request('/kv/anything', { headers: bearer(forged) })).status).toBe(401)
      expect((await entry.request('/kv/anything', { headers: bearer(reader.key) })).status).toBe(
        404,
      )
      const write = await entry.request('/kv/anything', {
        method: 'PUT',
        headers: bearer(reader.key),
        body: 'x',
      })
      expect(write.status).toBe(403)
    }
  })

  it('reloads its ring for a newer meridian-ring-version at most once per interval, even before auth', async () => {
    const { apis, ring } = await topology()
    const home = apis[regions[0]!]!
    const current = (await ring.migrations.status()).version
    let reloads = 0
    const refresh = ring.kv.ringCache.refresh.bind(ring.kv.ringCache)
    ring.kv.ringCache.refresh = () => {
      reloads++
      return refresh()
    }
    const startedMs = Date.now()
    const flood = await Promise.all(
      Array.from({ length: 40 }, () =>
        home.request('/kv/anything', {
          headers: { 'meridian-ring-version': String(current + 50) },
        }),
      ),
    )
    const elapsedMs = Date.now() - startedMs
    // No key: every answer is 401, and the made-up version cost one reload per interval at
    // most (one in all, unless the flood took longer than an interval), not one per request.
    expect(flood.map((answer) => answer.status)).toEqual(flood.map(() => 401))
    expect(reloads).toBeGreaterThanOrEqual(1)
    expect(reloads).toBeLessThanOrEqual(1 + Math.floor(elapsedMs / ringHintReloadIntervalMs))
  })

  it('answers 503 region-unavailable naming the region when its API does not answer', async () => {
    const { edge, down } = await topology()
    const { key } = await createKey(uniqueTenant('edge-down'), ['kv:read', 'kv:write'])
    const auth = bearer(key)
    await edge.request('/kv/warm-up', { method: 'PUT', headers: auth, body: 'w' })
    const owners = new Map<string, string>()
    for (let index = 0; owners.size < 20; index++) {
      const name = `down-${index}`
      const answer = await edge.request(`/kv/${name}`, { method: 'PUT', headers: auth, body: 'v' })
      owners.set(name, answer.headers.get('meridian-edge-route')!)
    }
    const failing = regions[1]!
    down.add(failing)
    for (const [name, region] of owners) {
      const read = await edge.request(`/kv/${name}`, { headers: auth })
      if (region === failing) {
        expect(read.status).toBe(503)
        expect(read.headers.get('retry-after')).toBe('1')
        expect(await expectProblem(read)).toMatchObject({ region: failing })
      } else {
        expect(await read.text()).toBe('v')
      }
    }
  })
})
