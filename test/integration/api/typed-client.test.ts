// The typed client (@meridian/client, hono/client over the API's type) against the real
// composition root on the test engines: every protected route is reached through it, its
// requests are accepted as typed, and its answers (success and problem) have the declared
// shapes. The type assertions are checked by `npm run typecheck`; the calls by vitest.
import {
  type InferRequestType,
  type InferResponseType,
  type MeridianClient,
  meridianClient,
  pathParameter,
} from '@meridian/client'
import { afterAll, beforeAll, describe, expect, expectTypeOf, test } from 'vitest'
import { adminKey, app, createKey, expectProblem, protectedRoutes, uniqueTenant } from './support'

const requested: { method: string; path: string }[] = []

/** Serves the client's requests from the app in this process, noting each one. */
const appFetch: typeof fetch = async (input, init) => {
  const request = new Request(input, init)
  requested.push({ method: request.method, path: new URL(request.url).pathname })
  return app.fetch(request)
}

const baseUrl = 'http://meridian.test'
const tenant = uniqueTenant('client')
let client: MeridianClient
let admin: MeridianClient

beforeAll(async () => {
  const { key } = await createKey(tenant, ['kv:read', 'kv:write', 'lock', 'txn', 'jobs'])
  client = meridianClient(baseUrl, { apiKey: key, fetch: appFetch })
  admin = meridianClient(baseUrl, { apiKey: adminKey(), fetch: appFetch })
})

describe('the typed client', () => {
  test('stores, reads, conditionally replaces and deletes a KV value whose key has /, .. and UTF-8', async () => {
    const key = pathParameter('orders/../2026/größe #1?')
    const kv = client.kv[':key']
    const created = await kv.$put(
      { param: { key }, header: { 'if-none-match': '*', 'content-type': 'text/plain' } },
      { init: { body: 'first' } },
    )
    expect(created.status).toBe(201)
    if (created.status !== 201) return
    const { version } = await created.json()
    expectTypeOf(version).toEqualTypeOf<number>()
    expect(version).toBe(1)

    const read = await kv.$get({ param: { key }, header: {} })
    expect(read.status).toBe(200)
    expect(await read.text()).toBe('first')
    expect(read.headers.get('etag')).toBe('"1"')

    const stale = await kv.$put(
      { param: { key }, header: { 'if-match': '"7"' } },
      { init: { body: 'lost' } },
    )
    expect(stale.status).toBe(412)
    if (stale.status === 412) {
      const problem = await stale.json()
      expectTypeOf(problem.type).toEqualTypeOf<string>()
      expect(problem.type).toMatch(/version-mismatch$/)
    }

    const replaced = await kv.$put(
      { param: { key }, header: { 'if-match': '"1"' } },
      { init: { body: 'second' } },
    )
    expect(replaced.status).toBe(200)

    const owners = await client.ring.owners[':key'].$get({ param: { key } })
    expect(owners.status).toBe(200)
    if (owners.status === 200) {
      expect((await owners.json()).key).toBe('orders/../2026/größe #1?')
    }

    const deleted = await kv.$delete({ param: { key }, header: { 'if-match': '"2"' } })
    expect(deleted.status).toBe(204)
    expect((await kv.$get({ param: { key }, header: {} })).status).toBe(404)
  })

  test('reads the ring, and a replacement with a stale If-Match is a typed 412', async () => {
    const ring = await client.ring.$get()
    expect(ring.status).toBe(200)
    if (ring.status !== 200) return
    const { config, state } = await ring.json()
    expect(state).toBe('stable')
    expect(config.nodes.length).toBeGreaterThan(0)

    const { version: _version, ...unchanged } = config
    const stale = await admin.ring.$put({
      header: { 'if-match': '"0"' },
      json: { ...unchanged, nodes: [...unchanged.nodes] },
    })
    expect(stale.status).toBe(412)
    await expectProblem(stale)

    // Every store region, as this instance's failure detector sees it.
    const regions = await client.regions.$get()
    expect(regions.status).toBe(200)
    if (regions.status === 200) {
      const { regions: views } = await regions.json()
      expect(views.map((view) => view.state)).toEqual(views.map(() => 'trusted'))
      expect(views.length).toBeGreaterThan(0)
    }

    // The ring as arcs to draw: every node's share, the arcs covering the hash space.
    const arcs = await client.ring.arcs.$get({ query: { segments: '36' } })
    expect(arcs.status).toBe(200)
    if (arcs.status === 200) {
      const drawn = await arcs.json()
      expect(drawn.nodes.map((node) => node.id).sort()).toEqual(
        config.nodes.map((node) => node.id).sort(),
      )
      expect(drawn.arcs.at(-1)?.end).toBe(1)
    }

    // A stable ring's event stream sends it once and ends.
    const events = await client.ring.migration.events.$get({ query: { timeoutSeconds: '5' } })
    expect(events.status).toBe(200)
    expect(await events.text()).toMatch(/^event: progress[\s\S]*^event: end$/m)
  })

  test('acquires, renews, inspects and releases a lock; a contender gets the holder', async () => {
    const lock = client.locks[':name']
    const name = `client-${Date.now().toString(36)}`
    const acquired = await lock.acquire.$post({
      param: { name },
      json: { owner: 'worker-a', leaseMs: 5_000 },
    })
    expect(acquired.status).toBe(200)
    if (acquired.status !== 200) return
    const lease = await acquired.json()
    expectTypeOf(lease).toEqualTypeOf<{
      name: string
      owner: string
      fence: number
      leaseUntilMs: number
    }>()

    // The middleware's answers are typed too: an oversized body, an internal error.
    const answer = acquired as Awaited<ReturnType<typeof lock.acquire.$post>>
    if (answer.status === 413 || answer.status === 500) {
      expectTypeOf((await answer.json()).type).toEqualTypeOf<string>()
    }

    const contender = await lock.acquire.$post({
      param: { name },
      json: { owner: 'worker-b', leaseMs: 5_000, waitMs: 0 },
    })
    expect(contender.status).toBe(409)
    if (contender.status === 409) expect((await contender.json()).owner).toBe('worker-a')

    const renewed = await lock.renew.$post({
      param: { name },
      json: { owner: 'worker-a', fence: lease.fence, leaseMs: 5_000 },
    })
    expect(renewed.status).toBe(200)

    const inspected = await lock.$get({ param: { name } })
    expect(inspected.status).toBe(200)
    if (inspected.status === 200) expect(await inspected.json()).toMatchObject({ held: true })

    const listed = await client.locks.$get({ query: { held: 'true', limit: '100' } })
    expect(listed.status).toBe(200)
    if (listed.status === 200) {
      const page = await listed.json()
      expectTypeOf(page.nextCursor).toEqualTypeOf<string | null>()
      expect(page.items.find((item) => item.name === name)).toMatchObject({
        holder: 'worker-a',
        fence: lease.fence,
        held: true,
      })
    }

    const released = await lock.release.$post({
      param: { name },
      json: { owner: 'worker-a', fence: lease.fence },
    })
    expect(released.status).toBe(200)
    if (released.status === 200) expect((await released.json()).released).toBe(true)
  })

  test('commits a transaction, reads its record, and lists in-doubt transactions', async () => {
    const id = `client-${Date.now().toString(36)}`
    type TransactionRequest = InferRequestType<typeof client.txn.$post>['json']
    expectTypeOf<TransactionRequest['operations'][number]['op']>().toEqualTypeOf<
      'put' | 'delete' | 'check'
    >()
    const committed = await client.txn.$post({
      json: {
        id,
        operations: [
          { op: 'put', key: 'accounts/a', value: '10' },
          { op: 'put', key: 'accounts/b', value: '20' },
        ],
      },
    })
    expect(committed.status).toBe(200)
    if (committed.status === 200) expect((await committed.json()).state).toBe('COMMITTED')

    const record = await client.txn[':id'].$get({ param: { id } })
    expect(record.status).toBe(200)
    if (record.status === 200) expect((await record.json()).participants).toHaveLength(2)

    const inDoubt = await client.txn.$get({ query: { state: 'in-doubt' } })
    expect(inDoubt.status).toBe(200)
  })

  test('uploads inputs, submits a job, follows it, and cancels it', async () => {
    const uploaded = await client.jobs.inputs[':path'].$put(
      { param: { path: pathParameter(`client/${tenant}/words.txt`) } },
      { init: { body: 'a b a\n' } },
    )
    expect(uploaded.status).toBe(201)
    const incoming = await client.jobs.incoming[':job'][':file'].$put(
      // No trigger runs in this test: the answer needn't wait for one.
      { param: { job: 'word-count', file: 'words.txt' }, query: { waitMs: '0' } },
      { init: { body: 'c d c\n' } },
    )
    expect(incoming.status).toBe(202)
    if (incoming.status === 202) {
      const { jobId, started } = await incoming.json()
      expectTypeOf(jobId).toEqualTypeOf<string>()
      expect(jobId).toMatch(/^upload-[0-9a-f]{32}$/)
      expect(started).toBe(false)
      expect(incoming.headers.get('location')).toBe(`/jobs/${jobId}`)
    }

    const submitted = await client.jobs.$post({
      json: { job: 'word-count', input: { records: ['to be or not to be'] } },
    })
    expect(submitted.status).toBe(201)
    if (submitted.status !== 201) return
    const job = await submitted.json()
    expectTypeOf(job.id).toEqualTypeOf<string>()

    const shown = await client.jobs[':id'].$get({ param: { id: job.id } })
    expect(shown.status).toBe(200)
    const listed = await client.jobs.$get({ query: { state: 'RUNNING', limit: '5' } })
    expect(listed.status).toBe(200)
    if (listed.status === 200) {
      const page = await listed.json()
      expect(page.items.map((item) => item.id)).toContain(job.id)
      expect(page.items.every((item) => item.state === 'RUNNING')).toBe(true)
    }
    const events = await client.jobs[':id'].events.$get({
      param: { id: job.id },
      query: { timeoutSeconds: '1', intervalMs: '100' },
    })
    expect(events.status).toBe(200)
    expect(await events.text()).toMatch(/^event: progress/m)

    const cancelled = await client.jobs[':id'].$delete({ param: { id: job.id } })
    expect([200, 409]).toContain(cancelled.status)
    const output = await client.jobs[':id'].output.$get({ param: { id: job.id }, query: {} })
    expect(output.status).toBe(409)
    await expectProblem(output)
  })

  test('manages API keys as the admin, and a revoked key gets a typed 401', async () => {
    const created = await admin.admin.keys.$post({
      json: { tenant, scopes: ['kv:read'], name: 'typed-client' },
    })
    expect(created.status).toBe(201)
    if (created.status !== 201) return
    const { id, key } = await created.json()

    const listed = await admin.admin.keys.$get({ query: { tenant } })
    expect(listed.status).toBe(200)
    if (listed.status === 200) expect((await listed.json()).keys.map((k) => k.id)).toContain(id)

    expect((await admin.admin.keys[':id'].$delete({ param: { id } })).status).toBe(204)
    const revoked = meridianClient(baseUrl, { apiKey: key, fetch: appFetch })
    const refused = await revoked.ring.$get()
    expect(refused.status).toBe(401)
    await expectProblem(refused)
  })

  test('reads /health without a key', async () => {
    const health = await meridianClient(baseUrl, { apiKey: 'none', fetch: appFetch }).health.$get()
    type Health = InferResponseType<typeof client.health.$get, 200>
    expectTypeOf<Health['status']>().toExtend<string>()
    expect(health.status).toBe(200)
  })
})

afterAll(() => {
  // Runs after every test above: each protected route the app serves was reached through
  // the typed client, so the client's type knows all of them.
  const unreached = protectedRoutes().filter(
    (route) =>
      !requested.some(
        (request) => request.method === route.method && routePattern(route.path).test(request.path),
      ),
  )
  expect(unreached).toEqual([])
})

/** `/kv/:key{.*}` → a regex matching concrete paths of that route. */
function routePattern(path: string): RegExp {
  const pattern = path
    .split('/')
    .map((segment) => {
      const spanning = /^:\w+\{(.+)\}$/.exec(segment)
      if (spanning) return spanning[1]
      return segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    })
    .join('/')
  return new RegExp(`^${pattern}$`)
}
