import { createApp, problemContentType } from '@meridian/api'
import { valueSizeMaxBytes } from '@meridian/store'
import { describe, expect, it } from 'vitest'
import { kvService, migratingRing, regions, stageIntent } from './support'

const logged: unknown[] = []
const service = kvService()
const app = createApp({ probes: [], kv: service, logError: (error) => logged.push(error) })
const unique = () => `http-${crypto.randomUUID()}`

function put(key: string, body: BodyInit, headers: Record<string, string> = {}) {
  return app.request(`/kv/${key}`, {
    method: 'PUT',
    body,
    headers: { 'content-type': 'text/plain', ...headers },
  })
}

async function expectProblem(response: Response, status: number, slug: string) {
  expect(response.status).toBe(status)
  expect(response.headers.get('content-type')).toBe(problemContentType)
  const body = await response.json()
  expect(body).toMatchObject({ type: `urn:meridian:problem:${slug}`, status })
  return body
}

describe('/kv/:key over HTTP', () => {
  it('creates with 201, replaces with 200 and round-trips bytes, Content-Type and ETag', async () => {
    const key = unique()
    const created = await put(key, 'hello')
    expect(created.status).toBe(201)
    expect(created.headers.get('etag')).toBe('"1"')
    expect(await created.json()).toEqual({ key, version: 1 })
    const replaced = await put(key, new Uint8Array([0, 1, 2]), {
      'content-type': 'application/x-thing',
    })
    expect(replaced.status).toBe(200)
    const read = await app.request(`/kv/${key}`)
    expect(read.status).toBe(200)
    expect(read.headers.get('etag')).toBe('"2"')
    expect(read.headers.get('content-type')).toBe('application/x-thing')
    expect(new Uint8Array(await read.arrayBuffer())).toEqual(new Uint8Array([0, 1, 2]))
  })

  it('applies If-Match from a read ETag and answers 412 on a stale one', async () => {
    const key = unique()
    const etag = (await put(key, 'a')).headers.get('etag')!
    expect((await put(key, 'b', { 'if-match': etag })).status).toBe(200)
    const stale = await expectProblem(
      await put(key, 'c', { 'if-match': etag }),
      412,
      'version-mismatch',
    )
    expect(stale).toMatchObject({ key, expectedVersion: 1, actualVersion: 2 })
    const staleDelete = await app.request(`/kv/${key}`, {
      method: 'DELETE',
      headers: { 'if-match': etag },
    })
    await expectProblem(staleDelete, 412, 'version-mismatch')
  })

  it('creates only when absent with If-None-Match: *', async () => {
    const key = unique()
    expect((await put(key, 'a', { 'if-none-match': '*' })).status).toBe(201)
    await expectProblem(await put(key, 'b', { 'if-none-match': '*' }), 412, 'version-mismatch')
  })

  it('answers 304 to a GET whose If-None-Match is the current ETag', async () => {
    const key = unique()
    await put(key, 'a')
    const response = await app.request(`/kv/${key}`, { headers: { 'if-none-match': '"1"' } })
    expect(response.status).toBe(304)
  })

  it('deletes with 204, then answers 404, and re-creates at a higher version', async () => {
    const key = unique()
    await put(key, 'a')
    const deleted = await app.request(`/kv/${key}`, { method: 'DELETE' })
    expect(deleted.status).toBe(204)
    expect(deleted.headers.get('etag')).toBe('"2"')
    await expectProblem(await app.request(`/kv/${key}`), 404, 'not-found')
    await expectProblem(await app.request(`/kv/${key}`, { method: 'DELETE' }), 404, 'not-found')
    const recreated = await put(key, 'b')
    expect(recreated.status).toBe(201)
    expect(recreated.headers.get('etag')).toBe('"3"')
  })

  it('answers 404 for a key never written', async () => {
    await expectProblem(await app.request(`/kv/${unique()}`), 404, 'not-found')
  })

  it('answers 409 to a write with a stale fence and records the highest fence', async () => {
    const key = unique()
    expect((await put(key, 'a', { 'meridian-fence': '7' })).status).toBe(201)
    const stale = await expectProblem(
      await put(key, 'b', { 'meridian-fence': '6' }),
      409,
      'stale-fence',
    )
    expect(stale).toMatchObject({ fence: 6, recordedFence: 7 })
    expect((await put(key, 'c', { 'meridian-fence': '7' })).status).toBe(200)
    const staleDelete = await app.request(`/kv/${key}`, {
      method: 'DELETE',
      headers: { 'meridian-fence': '1' },
    })
    await expectProblem(staleDelete, 409, 'stale-fence')
  })

  it('answers 409 with the transaction id to a write on a key held by a transaction', async () => {
    const key = unique()
    await put(key, 'a')
    const transactionId = await stageIntent(service, key, 'put')
    const held = await expectProblem(await put(key, 'b'), 409, 'key-in-transaction')
    expect(held).toMatchObject({ key, transactionId })
    expect(await (await app.request(`/kv/${key}`)).text()).toBe('a')
  })

  it('accepts keys with slashes, spaces and non-ASCII characters', async () => {
    const key = `${unique()}/a b/é/日本`
    const path = encodeURIComponent(key)
    expect((await app.request(`/kv/${path}`, { method: 'PUT', body: 'x' })).status).toBe(201)
    expect(await (await app.request(`/kv/${path}`)).text()).toBe('x')
    const unencodedSlashes = key.split('/').map(encodeURIComponent).join('/')
    expect((await app.request(`/kv/${unencodedSlashes}`)).status).toBe(200)
  })

  it('answers 400 for bad keys: empty, over 1 KiB, invalid percent-encoding, lone surrogates', async () => {
    for (const path of [
      '/kv/',
      '/kv',
      `/kv/${'k'.repeat(1025)}`,
      '/kv/%ZZ',
      '/kv/%FF',
      '/kv/%ED%A0%80',
      '/kv/a%',
    ]) {
      await expectProblem(await app.request(path), 400, 'invalid-key')
    }
    // 1024 bytes is allowed: 512 two-byte characters.
    const longest = encodeURIComponent('é'.repeat(512))
    expect((await app.request(`/kv/${longest}`, { method: 'PUT', body: 'x' })).status).toBeLessThan(
      300,
    )
    await expectProblem(
      await app.request(`/kv/${encodeURIComponent('é'.repeat(513))}`),
      400,
      'invalid-key',
    )
  })

  it('answers 400 value-too-large over the value limit and accepts exactly the limit', async () => {
    const key = unique()
    const body = await expectProblem(
      await put(key, new Uint8Array(valueSizeMaxBytes + 1)),
      400,
      'value-too-large',
    )
    expect(body).toMatchObject({ limitBytes: valueSizeMaxBytes })
    expect((await put(key, new Uint8Array(valueSizeMaxBytes))).status).toBe(201)
  })

  it('answers 400 for malformed headers', async () => {
    const key = unique()
    await expectProblem(await put(key, 'a', { 'if-match': '3' }), 400, 'invalid-if-match')
    await expectProblem(
      await put(key, 'a', { 'if-none-match': '"3"' }),
      400,
      'invalid-if-none-match',
    )
    await expectProblem(await put(key, 'a', { 'meridian-fence': '-1' }), 400, 'invalid-fence')
    await expectProblem(await put(key, 'a', { 'meridian-fence': 'x' }), 400, 'invalid-fence')
    await expectProblem(
      await put(key, 'a', { 'content-type': 'not a type' }),
      400,
      'invalid-content-type',
    )
    await expectProblem(
      await put(key, 'a', { 'if-match': '"1"', 'if-none-match': '*' }),
      400,
      'conflicting-preconditions',
    )
  })
})

describe('/ring over HTTP', () => {
  it('shows the ring with its version as ETag and where a key lives', async () => {
    const ring = await app.request('/ring')
    expect(ring.status).toBe(200)
    const { config, state, version } = await ring.json()
    expect(state).toBe('stable')
    expect(version).toBe(config.version)
    expect(ring.headers.get('etag')).toBe(`"${config.version}"`)
    expect(config.nodes.map((node: { region: string }) => node.region).sort()).toEqual(
      [...regions].sort(),
    )
    const owners = await app.request(`/ring/owners/${encodeURIComponent('a/b')}`)
    expect(owners.status).toBe(200)
    expect(await owners.json()).toMatchObject({
      key: 'a/b',
      storageKey: 'default#a/b',
      ringVersion: config.version,
    })
    await expectProblem(await app.request('/ring/owners/%FF'), 400, 'invalid-key')
  })

  it('changes the ring only with the current version in If-Match, one migration at a time', async () => {
    const ring = await migratingRing()
    const own = createApp({
      probes: [],
      kv: ring.kv,
      ringMigrations: ring.migrations,
      logError: (error) => logged.push(error),
    })
    const key = `moving-${crypto.randomUUID()}`
    expect((await own.request(`/kv/${key}`, { method: 'PUT', body: 'kept' })).status).toBe(201)
    const current = await (await own.request('/ring')).json()
    const nodes = current.config.nodes.map((node: object, index: number) => ({
      ...node,
      weight: index + 1,
    }))
    const send = (headers: Record<string, string>, body: unknown = { nodes }) =>
      own.request('/ring', {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      })
    await expectProblem(await send({}), 428, 'precondition-required')
    await expectProblem(
      await send({ 'if-match': `"${current.version + 1}"` }),
      412,
      'ring-version-mismatch',
    )
    await expectProblem(
      await send({ 'if-match': `"${current.version}"` }, { nodes: [] }),
      400,
      'invalid-ring-config',
    )
    await expectProblem(
      await send(
        { 'if-match': `"${current.version}"` },
        { nodes: [{ id: 'x', region: 'sa-east-1', weight: 1 }] },
      ),
      400,
      'invalid-ring-config',
    )
    const started = await send({ 'if-match': `"${current.version}"` })
    expect(started.status).toBe(202)
    expect(started.headers.get('location')).toBe('/ring')
    const migration = await started.json()
    expect(migration).toMatchObject({
      state: 'migrating',
      migration: {
        phase: 'moving',
        from: current.version,
        to: current.version + 3,
        fromVersion: current.version,
        ranges: { done: 0 },
      },
    })
    expect(started.headers.get('etag')).toBe(`"${migration.version}"`)
    // The config shown is the target ring; the migration's bookkeeping stays inside.
    expect(migration.config).toMatchObject({ nodes, version: migration.version })
    expect(migration.config.migration).toBeUndefined()
    await expectProblem(
      await send({ 'if-match': `"${migration.version}"` }),
      409,
      'ring-migration-in-progress',
    )
    // The key stays readable while its range moves, and after.
    expect(await (await own.request(`/kv/${key}`)).text()).toBe('kept')
    const events = await own.request('/ring/migration/events?timeoutSeconds=20&intervalMs=100')
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const streamed = events.text()
    await ring.inbox.drain(ring.migrations)
    const text = await streamed
    expect(text).toMatch(/event: progress\ndata: \{"version":\d+,"state":"migrating"/)
    expect(text).toMatch(/event: progress\ndata: \{"version":\d+,"state":"stable"/)
    expect(text.trimEnd()).toMatch(/event: end\ndata: \{"state":"stable","version":\d+\}$/)
    // Reconnecting with the last event's id sends no snapshot the client already has.
    const lastId = [...text.matchAll(/id: ([0-9a-f]{16})/g)].at(-1)![1]!
    const resumed = await (
      await own.request('/ring/migration/events?timeoutSeconds=5', {
        headers: { 'last-event-id': lastId },
      })
    ).text()
    expect(resumed).not.toContain('event: progress')
    expect(resumed).toContain('event: end')
    await expectProblem(
      await own.request('/ring/migration/events?timeoutSeconds=0'),
      400,
      'invalid-request',
    )
    const stable = await (await own.request('/ring')).json()
    expect(stable).toMatchObject({ state: 'stable', config: { nodes } })
    expect(stable.migration).toBeUndefined()
    expect(await (await own.request(`/kv/${key}`)).text()).toBe('kept')
  })

  it('refuses a ring change where no migration queue is wired', async () => {
    const current = await (await app.request('/ring')).json()
    const answer = await app.request('/ring', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'if-match': `"${current.version}"` },
      body: JSON.stringify({ nodes: current.config.nodes }),
    })
    await expectProblem(answer, 409, 'ring-change-unsupported')
  })

  it('never answered with a 500 in this suite', () => {
    expect(logged).toEqual([])
  })
})
