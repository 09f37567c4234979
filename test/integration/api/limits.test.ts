// Limits and request metadata on the real security stack: the per-key rate limit holds
// across app instances (it is counted in DynamoDB), bodies over the limit are refused
// before any work, and every answer carries request and correlation ids.
import {
  Authenticator,
  createApp,
  DynamoApiKeyStore,
  DynamoRateLimiter,
  scopes,
} from '@meridian/api'
import { coordinationTable, dynamoClient } from '@meridian/aws'
import { Resource } from 'sst'
import { describe, expect, it } from 'vitest'
import { adminKey, app, bearer, createKey, expectProblem, uniqueTenant } from './support'

const tableName = (Resource as unknown as Record<string, { name: string }>)[
  coordinationTable.resource
]!.name

function appWithRateLimit(requestsPerSecondMax: number) {
  const keyStore = new DynamoApiKeyStore(dynamoClient(), tableName)
  return createApp({
    probes: [],
    security: {
      keyStore,
      authenticator: new Authenticator({ store: keyStore, bootstrapAdminKey: adminKey() }),
      rateLimiter: new DynamoRateLimiter(dynamoClient(), tableName, requestsPerSecondMax),
    },
  })
}

describe('rate limit', () => {
  it('refuses requests over the per-key rate with 429 and Retry-After, counted across instances', async () => {
    const { key } = await createKey(uniqueTenant('rate'), ['kv:read'])
    // Two "instances" share the budget because the window lives in DynamoDB.
    const instances = [appWithRateLimit(3), appWithRateLimit(3)]
    // Start at the beginning of a second so all requests fall in one window.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000)))
    const statuses: number[] = []
    for (let index = 0; index < 6; index++) {
      const response = await instances[index % 2]!.request('/kv/anything', { headers: bearer(key) })
      statuses.push(response.status)
      if (response.status === 429) {
        expect(response.headers.get('retry-after')).toBe('1')
        expect((await expectProblem(response)).type).toBe('urn:meridian:problem:rate-limited')
      }
    }
    expect(statuses.filter((status) => status === 404)).toHaveLength(3)
    expect(statuses.filter((status) => status === 429)).toHaveLength(3)
  })
})

describe('body limits', () => {
  it('refuses a JSON body over 1 MiB with 413, and a KV value that large with 400', async () => {
    const { key } = await createKey(uniqueTenant('body'), [...scopes])
    const huge = 'x'.repeat(1024 * 1024 + 1)
    const txn = await app.request('/txn', {
      method: 'POST',
      headers: { ...bearer(key), 'content-type': 'application/json' },
      body: JSON.stringify({ operations: [{ op: 'put', key: 'a', value: huge }] }),
    })
    expect(txn.status).toBe(413)
    expect((await expectProblem(txn)).type).toBe('urn:meridian:problem:payload-too-large')
    const kv = await app.request('/kv/huge', { method: 'PUT', headers: bearer(key), body: huge })
    expect(kv.status).toBe(400)
    expect((await expectProblem(kv)).type).toBe('urn:meridian:problem:value-too-large')
  })
})

describe('request metadata', () => {
  it('answers with a request id and echoes a plain correlation id, replacing an unsafe one', async () => {
    const mine = await app.request('/health', { headers: { 'x-correlation-id': 'order-42' } })
    expect(mine.headers.get('x-correlation-id')).toBe('order-42')
    expect(mine.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    const unsafe = await app.request('/kv/x', {
      headers: { 'x-correlation-id': 'bad id {with} spaces' },
    })
    expect(unsafe.status).toBe(401)
    expect(unsafe.headers.get('x-correlation-id')).toBe(unsafe.headers.get('x-request-id'))
  })
})
