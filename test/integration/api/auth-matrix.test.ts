// Every protected route, walked from the app's own route table: no key, a malformed key, an
// unknown key and a revoked key get 401; a key without the route's scope gets 403; and a
// tenant asking for another tenant's KV key, lock, transaction or job gets a 404 — never data.
import {
  Authenticator,
  createApp,
  DynamoApiKeyStore,
  requiredScope,
  type Scope,
  scopes,
} from '@meridian/api'
import { coordinationTable, dynamoClient } from '@meridian/aws'
import { linkedName } from '@meridian/aws/linked'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  adminKey,
  app,
  bearer,
  concretePath,
  createKey,
  expectProblem,
  protectedRoutes,
  uniqueTenant,
} from './support'

const routes = protectedRoutes()
let scopedKeys: Map<Scope, string>
let revokedKey: string

beforeAll(async () => {
  const tenant = uniqueTenant('matrix')
  scopedKeys = new Map()
  for (const scope of scopes) scopedKeys.set(scope, (await createKey(tenant, [scope])).key)
  const revoked = await createKey(tenant, [...scopes])
  const revoke = await app.request(`/admin/keys/${revoked.id}`, {
    method: 'DELETE',
    headers: bearer(scopedKeys.get('admin')!),
  })
  expect(revoke.status).toBe(204)
  revokedKey = revoked.key
})

describe('the auth matrix', () => {
  it('covers every feature', () => {
    const families = new Set(routes.map((route) => route.path.split('/')[1]))
    for (const family of ['kv', 'ring', 'locks', 'txn', 'jobs', 'admin'])
      expect(families).toContain(family)
    for (const route of routes)
      expect(requiredScope(route.method, route.path), route.path).toBeDefined()
  })

  it('answers 401 on every route without a valid key', async () => {
    const unknown = `mrd_${'0'.repeat(16)}_${'A'.repeat(43)}`
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer not-a-key' },
      { authorization: `Basic ${btoa('user:pass')}` },
      bearer(unknown),
      bearer(revokedKey),
    ]
    for (const route of routes) {
      for (const headers of attempts) {
        const response = await app.request(concretePath(route.path), {
          method: route.method,
          headers,
        })
        expect(response.status, `${route.method} ${route.path} ${JSON.stringify(headers)}`).toBe(
          401,
        )
        expect((await expectProblem(response)).type).toBe('urn:meridian:problem:unauthorized')
      }
    }
  })

  it('answers 403 on every route to a key without its scope, and lets the right scope through', async () => {
    for (const route of routes) {
      const path = concretePath(route.path)
      const needed = requiredScope(route.method, path)!
      for (const [scope, key] of scopedKeys) {
        const response = await app.request(path, { method: route.method, headers: bearer(key) })
        const label = `${route.method} ${route.path} with ${scope}`
        if (scope === needed) {
          expect([401, 403], label).not.toContain(response.status)
        } else {
          expect(response.status, label).toBe(403)
          expect(await expectProblem(response)).toMatchObject({
            type: 'urn:meridian:problem:forbidden',
          })
        }
      }
    }
  })
  it('refuses a route missing from the scope table with 403, even to the admin key', async () => {
    // The real middleware in front of a route that was added without a scope-table entry.
    const keyStore = new DynamoApiKeyStore(dynamoClient(), linkedName(coordinationTable.resource))
    const authenticator = new Authenticator({ store: keyStore, bootstrapAdminKey: adminKey() })
    const withUnlistedRoute = createApp({ probes: [], security: { authenticator, keyStore } })
    withUnlistedRoute.get('/unlisted/report', (c) => c.text('should never be served'))

    const response = await withUnlistedRoute.request('/unlisted/report', {
      headers: bearer(adminKey()),
    })
    expect(response.status).toBe(403)
    expect(await expectProblem(response)).toMatchObject({
      type: 'urn:meridian:problem:forbidden',
    })
    expect((await withUnlistedRoute.request('/unlisted/report')).status).toBe(401)
  })
})

describe('tenant isolation', () => {
  let alice: Record<string, string>
  let bob: Record<string, string>
  const json = { 'content-type': 'application/json' }

  beforeAll(async () => {
    const everything = scopes.filter((scope) => scope !== 'admin')
    alice = bearer((await createKey(uniqueTenant('alice'), everything)).key)
    bob = bearer((await createKey(uniqueTenant('bob'), everything)).key)
  })

  it("never shows one tenant's KV key to another", async () => {
    const put = await app.request('/kv/shared-name', {
      method: 'PUT',
      headers: alice,
      body: 'secret',
    })
    expect(put.status).toBe(201)
    const theirs = await app.request('/kv/shared-name', { headers: bob })
    expect(theirs.status).toBe(404)
    expect(await theirs.text()).not.toContain('secret')
    const overwrite = await app.request('/kv/shared-name', { method: 'DELETE', headers: bob })
    expect(overwrite.status).toBe(404)
    expect(await (await app.request('/kv/shared-name', { headers: alice })).text()).toBe('secret')
  })

  it("never shows one tenant's lock to another, nor lets it interfere", async () => {
    const acquired = await app.request('/locks/shared-lock/acquire', {
      method: 'POST',
      headers: { ...alice, ...json },
      body: JSON.stringify({ owner: 'alice-worker', leaseMs: 30_000 }),
    })
    expect(acquired.status).toBe(200)
    const { fence } = (await acquired.json()) as { fence: number }
    expect((await app.request('/locks/shared-lock', { headers: bob })).status).toBe(404)
    const release = await app.request('/locks/shared-lock/release', {
      method: 'POST',
      headers: { ...bob, ...json },
      body: JSON.stringify({ owner: 'alice-worker', fence }),
    })
    expect([404, 409]).toContain(release.status)
    const still = await app.request('/locks/shared-lock', { headers: alice })
    expect(await still.json()).toMatchObject({ held: true, owner: 'alice-worker', fence })
  })

  it("never shows one tenant's transaction to another", async () => {
    const committed = await app.request('/txn', {
      method: 'POST',
      headers: { ...alice, ...json },
      body: JSON.stringify({ operations: [{ op: 'put', key: 'txn-isolation', value: 'v' }] }),
    })
    expect(committed.status).toBe(200)
    const { id } = (await committed.json()) as { id: string }
    expect((await app.request(`/txn/${id}`, { headers: alice })).status).toBe(200)
    expect((await app.request(`/txn/${id}`, { headers: bob })).status).toBe(404)
  })

  it("never shows one tenant's job or its output to another, nor lets it cancel", async () => {
    const submitted = await app.request('/jobs', {
      method: 'POST',
      headers: { ...alice, ...json },
      body: JSON.stringify({ job: 'word-count', input: { records: ['alpha beta'] } }),
    })
    expect(submitted.status).toBe(201)
    const { id } = (await submitted.json()) as { id: string }
    for (const [method, path] of [
      ['GET', `/jobs/${id}`],
      ['GET', `/jobs/${id}/output`],
      ['DELETE', `/jobs/${id}`],
    ] as const) {
      const response = await app.request(path, { method, headers: bob })
      expect(response.status, `${method} ${path}`).toBe(404)
    }
    expect((await app.request(`/jobs/${id}`, { headers: alice })).status).toBe(200)
  })

  it("never lists one tenant's jobs or locks to another", async () => {
    const submitted = await app.request('/jobs', {
      method: 'POST',
      headers: { ...alice, ...json },
      body: JSON.stringify({ job: 'word-count', input: { records: ['listed'] } }),
    })
    expect(submitted.status).toBe(201)
    const { id } = (await submitted.json()) as { id: string }
    const acquired = await app.request('/locks/listed-lock/acquire', {
      method: 'POST',
      headers: { ...alice, ...json },
      body: JSON.stringify({ owner: 'alice-worker', leaseMs: 30_000 }),
    })
    expect(acquired.status).toBe(200)

    const ids = async (path: string, headers: Record<string, string>) => {
      const response = await app.request(path, { headers })
      expect(response.status, path).toBe(200)
      const page = (await response.json()) as { items: Array<{ id?: string; name?: string }> }
      return page.items.map((item) => item.id ?? item.name)
    }
    expect(await ids('/jobs?limit=100', alice)).toContain(id)
    expect(await ids('/locks?limit=100', alice)).toContain('listed-lock')
    for (const path of ['/jobs?limit=100', '/jobs?state=RUNNING', '/locks', '/locks?held=true']) {
      const seen = await ids(path, bob)
      expect(seen, path).not.toContain(id)
      expect(seen, path).not.toContain('listed-lock')
    }
  })
})
