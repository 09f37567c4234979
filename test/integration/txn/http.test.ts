// POST /txn, GET /txn/:id and GET /txn?state=in-doubt over app.request on DynamoDB Local.
import { createApp } from '@meridian/api'
import { RingChangingError } from '@meridian/store'
import { TransactionService } from '@meridian/txn'
import { describe, expect, it } from 'vitest'
import { dynamoPorts, unique } from './support'

const app = createApp({ probes: [], transactions: new TransactionService(dynamoPorts()) })
const post = (body: unknown) =>
  app.request('/txn', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

describe('POST /txn', () => {
  it('commits a multi-key transaction and replays the same outcome for the same id', async () => {
    const id = `h-${unique()}`
    const body = {
      id,
      operations: [
        { op: 'put', key: `${id}/a`, value: 'one', ifVersion: 'absent' },
        { op: 'put', key: `${id}/b`, value: 'two' },
      ],
    }
    const first = await post(body)
    expect(first.status).toBe(200)
    const answer = await first.json()
    expect(answer).toMatchObject({ id, state: 'COMMITTED', replayed: false })
    expect(answer.operations.map((operation: { version: number }) => operation.version)).toEqual([
      1, 1,
    ])
    const again = await post(body)
    expect(again.status).toBe(200)
    expect(await again.json()).toMatchObject({ id, state: 'COMMITTED', replayed: true })
    const read = await app.request(`/txn/${id}`)
    expect(await read.json()).toMatchObject({ id, state: 'COMMITTED', protocol: '2pc' })
  })

  it('answers 409 with a reason per operation when a version does not match', async () => {
    const id = `h-${unique()}`
    const response = await post({
      protocol: '3pc',
      operations: [
        { op: 'put', key: `${id}/a`, value: 'one' },
        { op: 'check', key: `${id}/b`, version: 3 },
      ],
    })
    expect(response.status).toBe(409)
    expect(response.headers.get('content-type')).toContain('application/problem+json')
    const problem = await response.json()
    expect(problem).toMatchObject({
      type: 'urn:meridian:problem:transaction-aborted',
      state: 'ABORTED',
      reason: 'vote-no',
    })
    expect(problem.operations[1]).toMatchObject({
      op: 'check',
      vote: 'no',
      reason: 'version-mismatch',
      currentVersion: 0,
    })
  })

  it('answers 503 ring-changing, retryable, when a key is moving and can not be placed yet', async () => {
    const ports = dynamoPorts()
    const moving = new TransactionService({
      ...ports,
      router: {
        regionOf: ports.router.regionOf,
        placementOf: async (key) => {
          throw new RingChangingError(`${JSON.stringify(key)} is moving; retry shortly`)
        },
      },
    })
    const response = await createApp({ probes: [], transactions: moving }).request('/txn', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operations: [{ op: 'put', key: `m-${unique()}`, value: 'x' }] }),
    })
    expect(response.status).toBe(503)
    expect(response.headers.get('retry-after')).toBe('1')
    expect((await response.json()).type).toBe('urn:meridian:problem:ring-changing')
  })

  it.each([
    [{ operations: [] }, 'no-operations'],
    [
      {
        operations: Array.from({ length: 101 }, (_, index) => ({ op: 'delete', key: `k${index}` })),
      },
      'too-many-operations',
    ],
    [
      {
        operations: [
          { op: 'delete', key: 'k' },
          { op: 'delete', key: 'k' },
        ],
      },
      'duplicate-key',
    ],
    [{ operations: [{ op: 'increment', key: 'k' }] }, 'unknown-operation'],
    [{ operations: [{ op: 'put', key: '', value: 'x' }] }, 'invalid-key'],
    [{ operations: [{ op: 'put', key: 'k', value: 1 }] }, 'invalid-operation'],
    [{ id: 'no spaces', operations: [{ op: 'delete', key: 'k' }] }, 'invalid-transaction'],
  ])('rejects bad input %j with a 400 %s', async (body, slug) => {
    const response = await post(body)
    expect(response.status).toBe(400)
    expect((await response.json()).type).toBe(`urn:meridian:problem:${slug}`)
  })
})

describe('GET /txn', () => {
  it('answers 404 for an unknown id and lists in-doubt transactions', async () => {
    expect((await app.request(`/txn/missing-${unique()}`)).status).toBe(404)
    const listing = await app.request('/txn?state=in-doubt&limit=5')
    expect(listing.status).toBe(200)
    expect(Array.isArray((await listing.json()).transactions)).toBe(true)
    expect((await app.request('/txn?state=everything')).status).toBe(400)
  })
})
