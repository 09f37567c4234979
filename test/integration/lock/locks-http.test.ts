// The /locks HTTP matrix through app.request, on DynamoDB Local: every outcome is a
// stable status and problem type, and none is a 500.
import { createApp } from '@meridian/api'
import { LockService } from '@meridian/lock'
import { describe, expect, it } from 'vitest'
import { dynamoLockTable } from './support'

const app = createApp({ probes: [], locks: new LockService({ table: dynamoLockTable() }) })

function post(path: string, body: unknown) {
  return app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

function uniqueName() {
  return `http-${crypto.randomUUID()}`
}

describe('/locks HTTP API', () => {
  it('acquires, shows, renews and releases a lock', async () => {
    const name = uniqueName()
    const acquired = await post(`/locks/${name}/acquire`, { owner: 'a', leaseMs: 5_000 })
    expect(acquired.status).toBe(200)
    const lease = await acquired.json()
    expect(lease).toMatchObject({ name, owner: 'a', fence: expect.any(Number) })

    const shown = await app.request(`/locks/${name}`)
    expect(shown.status).toBe(200)
    expect(await shown.json()).toMatchObject({ name, held: true, owner: 'a', fence: lease.fence })

    const renewed = await post(`/locks/${name}/renew`, {
      owner: 'a',
      fence: lease.fence,
      leaseMs: 9_000,
    })
    expect(renewed.status).toBe(200)
    expect((await renewed.json()).leaseUntilMs).toBeGreaterThan(lease.leaseUntilMs)

    const released = await post(`/locks/${name}/release`, { owner: 'a', fence: lease.fence })
    expect(released.status).toBe(200)
    expect(await released.json()).toEqual({ name, fence: lease.fence, released: true })
    const after = await app.request(`/locks/${name}`)
    expect(await after.json()).toEqual({ name, fence: lease.fence, held: false })
  })

  it('answers 409 with the holder as problem extensions when the lock is held', async () => {
    const name = uniqueName()
    const lease = await (
      await post(`/locks/${name}/acquire`, { owner: 'a', leaseMs: 5_000 })
    ).json()
    const response = await post(`/locks/${name}/acquire`, {
      owner: 'b',
      leaseMs: 5_000,
      waitMs: 50,
    })
    expect(response.status).toBe(409)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    expect(await response.json()).toMatchObject({
      type: 'urn:meridian:problem:lock-held',
      status: 409,
      owner: 'a',
      fence: lease.fence,
      leaseUntilMs: lease.leaseUntilMs,
    })
  })

  it('answers 409 for renew or release with a stale fence or another owner, with the current holder', async () => {
    const name = uniqueName()
    const lease = await (
      await post(`/locks/${name}/acquire`, { owner: 'a', leaseMs: 5_000 })
    ).json()
    const cases = [
      post(`/locks/${name}/renew`, { owner: 'a', fence: lease.fence + 1, leaseMs: 1_000 }),
      post(`/locks/${name}/renew`, { owner: 'b', fence: lease.fence, leaseMs: 1_000 }),
      post(`/locks/${name}/release`, { owner: 'b', fence: lease.fence }),
    ]
    for (const response of await Promise.all(cases)) {
      expect(response.status).toBe(409)
      expect(await response.json()).toMatchObject({
        type: 'urn:meridian:problem:lock-not-held',
        owner: 'a',
        fence: lease.fence,
      })
    }
  })

  it('answers 404 for renew, release or GET of a lock that does not exist', async () => {
    const name = uniqueName()
    const responses = await Promise.all([
      post(`/locks/${name}/renew`, { owner: 'a', fence: 1, leaseMs: 1_000 }),
      post(`/locks/${name}/release`, { owner: 'a', fence: 1 }),
      app.request(`/locks/${name}`),
    ])
    for (const response of responses) {
      expect(response.status).toBe(404)
      expect(await response.json()).toMatchObject({ type: 'urn:meridian:problem:lock-not-found' })
    }
  })

  it.each([
    [
      'a name with a forbidden character',
      '/locks/bad%23name/acquire',
      { leaseMs: 1_000 },
      'invalid-lock-name',
    ],
    [
      'a name that is too long',
      `/locks/${'n'.repeat(129)}/acquire`,
      { leaseMs: 1_000 },
      'invalid-lock-name',
    ],
    ['a lease below the minimum', '/locks/x/acquire', { leaseMs: 10 }, 'invalid-lock-request'],
    [
      'a lease above the maximum',
      '/locks/x/acquire',
      { leaseMs: 10_000_000 },
      'invalid-lock-request',
    ],
    ['a missing lease', '/locks/x/acquire', {}, 'invalid-lock-request'],
    [
      'a wait above the HTTP bound',
      '/locks/x/acquire',
      { leaseMs: 1_000, waitMs: 120_000 },
      'invalid-lock-request',
    ],
    ['a negative wait', '/locks/x/acquire', { leaseMs: 1_000, waitMs: -1 }, 'invalid-lock-request'],
    [
      'an owner with spaces',
      '/locks/x/acquire',
      { leaseMs: 1_000, owner: 'a b' },
      'invalid-lock-request',
    ],
    ['an empty owner', '/locks/x/acquire', { leaseMs: 1_000, owner: '' }, 'invalid-lock-request'],
    [
      'an unknown field',
      '/locks/x/acquire',
      { leaseMs: 1_000, color: 'red' },
      'invalid-lock-request',
    ],
    ['a fractional fence', '/locks/x/release', { owner: 'a', fence: 1.5 }, 'invalid-lock-request'],
    ['a missing fence', '/locks/x/renew', { owner: 'a', leaseMs: 1_000 }, 'invalid-lock-request'],
    ['a body that is not JSON', '/locks/x/acquire', '{"leaseMs":', 'invalid-json'],
  ])('answers 400 for %s', async (_, path, body, slug) => {
    const response = await post(path, body)
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({
      type: `urn:meridian:problem:${slug}`,
      status: 400,
    })
  })

  it('answers 400 for GET with an invalid name', async () => {
    const response = await app.request('/locks/a%23b')
    expect(response.status).toBe(400)
  })
})
