// Limits and request metadata on the real security stack: the per-key rate limit holds
// across app instances (tokens are leased in batches from a count in DynamoDB), unknown
// keys cost a bounded number of reads, bodies over the limit are refused before any work,
// and every answer carries request and correlation ids.

import { GetItemCommand } from '@aws-sdk/client-dynamodb'
import {
  type ApiKeyStore,
  Authenticator,
  createApp,
  DynamoApiKeyStore,
  DynamoRateWindowCounter,
  LeasingRateLimiter,
  ProblemError,
  type RateWindowCounter,
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
      rateLimiter: new LeasingRateLimiter(
        new DynamoRateWindowCounter(dynamoClient(), tableName),
        requestsPerSecondMax,
      ),
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

/** The real counter, with its conditional writes counted. */
function countedWindowCounter(): RateWindowCounter & { leases: number } {
  const counter = new DynamoRateWindowCounter(dynamoClient(), tableName)
  return {
    leases: 0,
    lease(keyId, second, tokens, max) {
      this.leases++
      return counter.lease(keyId, second, tokens, max)
    },
  }
}

async function storedCount(keyId: string, second: number): Promise<number> {
  const { Item } = await dynamoClient().send(
    new GetItemCommand({
      TableName: tableName,
      Key: { pk: { S: `rate#${keyId}` }, sk: { S: String(second) } },
      ConsistentRead: true,
    }),
  )
  return Number(Item?.count?.N ?? 0)
}

describe('leased rate limit', () => {
  it('lets two instances together admit at most the limit, within the stated tolerance, with one write per batch', async () => {
    const counter = countedWindowCounter()
    const limit = 50
    const instances = [
      new LeasingRateLimiter(counter, limit),
      new LeasingRateLimiter(counter, limit),
    ]
    expect(instances[0]!.batch).toBe(5)
    const keyId = uniqueTenant('lease')
    const nowMs = 1_900_000_000_000 + Math.floor(Math.random() * 1000) * 1000
    const requestsPerInstance = 40
    const outcomes = await Promise.all(
      instances.flatMap((limiter) =>
        Array.from({ length: requestsPerInstance }, () => limiter.tryConsume(keyId, nowMs)),
      ),
    )
    const admitted = outcomes.filter(Boolean).length
    // Never more than the limit; fewer by at most batch − 1 stranded tokens per instance.
    expect(admitted).toBeLessThanOrEqual(limit)
    expect(admitted).toBeGreaterThanOrEqual(limit - instances.length * (5 - 1))
    expect(await storedCount(keyId, nowMs / 1000)).toBeLessThanOrEqual(limit)
    // One write per batch of 5, plus at most the refused leases that found the window full.
    expect(counter.leases).toBeLessThanOrEqual(limit / 5 + instances.length * 3)
    expect(counter.leases).toBeLessThan(admitted / 2)

    // A full window is refused locally for the rest of the second: no more writes.
    const leasesWhenFull = counter.leases
    for (const limiter of instances)
      expect(await limiter.tryConsume(keyId, nowMs + 999)).toBe(false)
    expect(counter.leases).toBe(leasesWhenFull)
    // The next second is a new window.
    expect(await instances[0]!.tryConsume(keyId, nowMs + 1000)).toBe(true)
  })

  it('leases what is left when less than a batch remains', async () => {
    const counter = countedWindowCounter()
    const keyId = uniqueTenant('rest')
    const nowMs = 1_900_000_000_000 + Math.floor(Math.random() * 1000) * 1000
    // Another instance took 48 of 50 in this second.
    await counter.lease(keyId, nowMs / 1000, 48, 50)
    const limiter = new LeasingRateLimiter(counter, 50)
    const outcomes: boolean[] = []
    for (let index = 0; index < 4; index++) outcomes.push(await limiter.tryConsume(keyId, nowMs))
    expect(outcomes).toEqual([true, true, false, false])
    expect(await storedCount(keyId, nowMs / 1000)).toBe(50)
  })
})

/** The real key store, with its reads counted. */
function countedKeyStore(): ApiKeyStore & { reads: number } {
  const store = new DynamoApiKeyStore(dynamoClient(), tableName)
  return {
    reads: 0,
    create: (record) => store.create(record),
    listByTenant: (tenant) => store.listByTenant(tenant),
    revoke: (id, nowMs) => store.revoke(id, nowMs),
    get(id) {
      this.reads++
      return store.get(id)
    },
  }
}

const madeUpKey = (index: number) => `mrd_${index.toString(16).padStart(16, 'e')}_${'A'.repeat(43)}`

describe('unknown API keys', () => {
  it('cost one read per id while cached as unknown, shared by concurrent requests', async () => {
    const store = countedKeyStore()
    // lru-cache treats a start time of 0 as "no TTL": start the fake clock later.
    let nowMs = 1_000_000
    const authenticator = new Authenticator({ store, nowMs: () => nowMs })
    const attempts = Array.from({ length: 10 }, () =>
      authenticator.authenticate(`Bearer ${madeUpKey(1)}`).catch((error: ProblemError) => error),
    )
    for (const outcome of await Promise.all(attempts))
      expect((outcome as ProblemError).problem.status).toBe(401)
    expect(store.reads).toBe(1)
    nowMs += 4_000
    await expect(authenticator.authenticate(`Bearer ${madeUpKey(1)}`)).rejects.toThrow(ProblemError)
    expect(store.reads).toBe(1)
    // The negative entry expires after 5 s: a key created meanwhile is found.
    nowMs += 1_001
    await expect(authenticator.authenticate(`Bearer ${madeUpKey(1)}`)).rejects.toThrow(ProblemError)
    expect(store.reads).toBe(2)
  })

  it('bound the reads a flood of made-up ids causes, answering 503 past the budget', async () => {
    const store = countedKeyStore()
    // lru-cache treats a start time of 0 as "no TTL": start the fake clock later.
    let nowMs = 1_000_000
    const authenticator = new Authenticator({
      store,
      nowMs: () => nowMs,
      keyLookupsPerSecondMax: 5,
    })
    const statuses: number[] = []
    for (let index = 0; index < 50; index++) {
      const outcome = await authenticator
        .authenticate(`Bearer ${madeUpKey(100 + index)}`)
        .catch((error: ProblemError) => error)
      statuses.push((outcome as ProblemError).problem.status)
    }
    expect(store.reads).toBe(5)
    expect(statuses.filter((status) => status === 401)).toHaveLength(5)
    expect(statuses.filter((status) => status === 503)).toHaveLength(45)
    // The budget refills with time, and a real key still gets through then.
    nowMs += 1_000
    const { key } = await createKey(uniqueTenant('budget'), ['kv:read'])
    const principal = await authenticator.authenticate(`Bearer ${key}`)
    expect(principal.scopes.has('kv:read')).toBe(true)
    expect(store.reads).toBe(6)
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
