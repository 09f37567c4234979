// A regional API in edge mode (functions/regional-api-app.ts, the composition the local
// runtime's MERIDIAN_EDGE=1 and the deployed regional functions run) on the real engines:
// API keys, the ring config and the store tables in DynamoDB Local. The home API is the
// real app over every table, reached through an in-process fetch. Every DynamoDB call the
// process makes is recorded with the API it ran for (an AsyncLocalStorage tag around each
// API's handling), its region and its table, by middleware on the SDK clients themselves.
import { AsyncLocalStorage } from 'node:async_hooks'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { Authenticator, createApp, DynamoApiKeyStore } from '@meridian/api'
import { dynamoClient, stageConfig, storeClient } from '@meridian/aws'
import { createKvService } from '@meridian/store'
import { describe, expect, it } from 'vitest'
import { createRegionalApiApp } from '../../../functions/regional-api-app'
import { adminKey, bearer, createKey, expectProblem, uniqueTenant } from '../api/support'
import { coordinationTableName, regionalStores, ringConfigStore, tableName } from '../store/support'

const home = stageConfig.homeRegion
const served = stageConfig.storeRegions.find((region) => region !== home)!
const homeUrl = 'http://home.api.test'

interface Call {
  api: string
  region: string
  command: string
  table: string | undefined
}
const calls: Call[] = []
const apiOfCall = new AsyncLocalStorage<string>()

/** Records every call a client makes, with the API whose request made it. */
function record(client: DynamoDBClient, region: string): void {
  if ((client as { recorded?: boolean }).recorded) return
  ;(client as { recorded?: boolean }).recorded = true
  client.middlewareStack.add(
    (next, context) => async (args) => {
      // Every table the call names (a TransactWriteItems names one per item).
      const tables = new Set(
        [...JSON.stringify(args.input).matchAll(/"TableName":"([^"]+)"/g)].map((m) => m[1]),
      )
      for (const table of tables.size > 0 ? tables : [undefined]) {
        calls.push({
          api: apiOfCall.getStore() ?? 'test',
          region,
          command: String(context.commandName),
          table,
        })
      }
      return next(args)
    },
    { step: 'initialize', name: 'recordCallsForTest' },
  )
}
for (const region of stageConfig.storeRegions) {
  record(dynamoClient(region), region)
  record(storeClient(region), region)
}

async function topology() {
  const ringStore = ringConfigStore()
  const keyStore = new DynamoApiKeyStore(dynamoClient(), coordinationTableName())
  const homeKv = createKvService({ stores: regionalStores(), ringStore })
  const homeApp = createApp({
    probes: [],
    servedRegion: home,
    security: {
      keyStore,
      authenticator: new Authenticator({ store: keyStore, bootstrapAdminKey: adminKey() }),
    },
    kv: homeKv,
  })
  const forwarded: string[] = []
  const regional = createRegionalApiApp({
    servedRegion: served,
    homeApiUrl: homeUrl,
    ringStore,
    fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(String(input))
      expect(url.origin).toBe(homeUrl)
      forwarded.push(`${init?.method ?? 'GET'} ${url.pathname}`)
      return apiOfCall.run('home', () => homeApp.request(`${url.pathname}${url.search}`, init))
    }) as typeof fetch,
  })
  const regionalRequest = (path: string, init?: RequestInit) =>
    apiOfCall.run('regional', async () => regional.request(path, init))
  // The first ring config is stored by the home API, as on a fresh deployment.
  await homeKv.ringConfig()
  return { homeKv, regionalRequest, forwarded }
}

async function keysOwnedBy(
  kv: Awaited<ReturnType<typeof topology>>['homeKv'],
  tenant: string,
  count: number,
) {
  const owned: Record<string, string[]> = {}
  for (
    let index = 0;
    Object.values(owned).filter((k) => k.length >= count).length < stageConfig.storeRegions.length;
    index++
  ) {
    const key = `key-${index}`
    const region = (await kv.owners(tenant, key)).owners[0]!.region
    owned[region] = [...(owned[region] ?? []), key].slice(0, count)
  }
  return owned
}

describe('a regional API in edge mode', () => {
  it('serves a key it owns from its own table and sends a key another region owns home, answering both correctly', async () => {
    const { homeKv, regionalRequest, forwarded } = await topology()
    const tenant = uniqueTenant('regional')
    const { key } = await createKey(tenant, ['kv:read', 'kv:write'])
    const auth = bearer(key)
    const owned = await keysOwnedBy(homeKv, tenant, 3)
    for (const region of stageConfig.storeRegions) {
      for (const name of owned[region]!) {
        const put = await regionalRequest(`/kv/${name}`, {
          method: 'PUT',
          headers: auth,
          body: name,
        })
        expect(put.status, `${name} in ${region}`).toBe(201)
        const read = await regionalRequest(`/kv/${name}`, { headers: auth })
        expect(await read.text()).toBe(name)
        // Served here when it owns the key; by the home API otherwise.
        const servedBy = region === served ? served : home
        for (const answer of [put, read])
          expect(answer.headers.get('meridian-region')).toBe(servedBy)
        // The value is in the owner's table, wherever the request entered.
        expect((await homeKv.get(tenant, name)).version).toBe(1)
      }
    }
    expect(forwarded.filter((line) => line.startsWith('PUT /kv/'))).toHaveLength(
      2 * owned[home]!.length,
    )
    // Everything else goes home too; the public documentation without a key.
    const ring = await regionalRequest('/ring', { headers: auth })
    expect(ring.status).toBe(200)
    expect(ring.headers.get('meridian-region')).toBe(home)
    expect((await regionalRequest('/openapi.json')).status).toBe(200)
  })

  it('answers a key it does not own, from a stale ring, with the newer ring version', async () => {
    const { homeKv, regionalRequest } = await topology()
    const tenant = uniqueTenant('regional-stale')
    const { key } = await createKey(tenant, ['kv:read', 'kv:write'])
    const auth = bearer(key)
    const owned = await keysOwnedBy(homeKv, tenant, 1)
    const [mine] = owned[served]!
    const [other] = owned[stageConfig.storeRegions.find((r) => r !== served && r !== home)!]!
    // The regional API loads and caches ring version v.
    const first = await regionalRequest(`/kv/${mine}`, { method: 'PUT', headers: auth, body: 'x' })
    const version = Number(first.headers.get('meridian-ring-version'))
    expect(version).toBeGreaterThan(0)
    // The home API moves to v + 1 (the same layout, so nothing moves).
    const current = await homeKv.ringConfig()
    await homeKv.ringCache.replace(current.version, { nodes: current.nodes })
    const answer = await regionalRequest(`/kv/${other}`, {
      method: 'PUT',
      headers: auth,
      body: 'y',
    })
    expect(answer.status).toBe(201)
    expect(answer.headers.get('meridian-region')).toBe(home)
    expect(Number(answer.headers.get('meridian-ring-version'))).toBe(version + 1)
    expect(new TextDecoder().decode((await homeKv.get(tenant, other!)).value)).toBe('y')
  })

  it('authenticates every request itself: no key, a forged key or a missing scope is refused as at home', async () => {
    const { regionalRequest, forwarded } = await topology()
    const reader = await createKey(uniqueTenant('regional-auth'), ['kv:read'])
    const forged = `mrd_${'0'.repeat(16)}_${'A'.repeat(43)}`
    for (const path of ['/kv/anything', '/locks/a', '/ring']) {
      const none = await regionalRequest(path)
      expect(none.status, path).toBe(401)
      expect((await expectProblem(none)).type).toContain('unauthorized')
      expect((await regionalRequest(path, { headers: bearer(forged) })).status, path).toBe(401)
    }
    expect(forwarded).toEqual([])
    const write = await regionalRequest('/kv/anything', {
      method: 'PUT',
      headers: bearer(reader.key),
      body: 'x',
    })
    expect(write.status).toBe(403)
  })

  it('never calls another region’s table: only its own store table and, in the home region, the coordination table', async () => {
    calls.length = 0
    const { homeKv, regionalRequest } = await topology()
    const tenant = uniqueTenant('regional-calls')
    const { key } = await createKey(tenant, ['kv:read', 'kv:write'])
    const auth = bearer(key)
    const owned = await keysOwnedBy(homeKv, tenant, 4)
    for (const name of Object.values(owned).flat()) {
      await regionalRequest(`/kv/${name}`, { method: 'PUT', headers: auth, body: name })
      await regionalRequest(`/kv/${name}`, { headers: auth })
      await regionalRequest(`/kv/${name}`, { method: 'DELETE', headers: auth })
    }
    await regionalRequest('/health')
    const mine = calls.filter((call) => call.api === 'regional')
    const allowed = new Set([
      `${home} ${coordinationTableName()}`,
      `${served} ${tableName(served)}`,
    ])
    expect(mine.length).toBeGreaterThan(0)
    expect(
      [...new Set(mine.map((call) => `${call.region} ${call.table}`))].filter(
        (c) => !allowed.has(c),
      ),
    ).toEqual([])
    // It served its own keys from its own table.
    expect(mine.some((call) => call.region === served && call.table === tableName(served))).toBe(
      true,
    )
    // The home API, for the keys it was sent, used the other tables (the counting works).
    const homeCalls = calls.filter((call) => call.api === 'home')
    for (const region of stageConfig.storeRegions.filter((r) => r !== served)) {
      expect(
        homeCalls.some((call) => call.region === region && call.table === tableName(region)),
      ).toBe(true)
    }
  })
})
