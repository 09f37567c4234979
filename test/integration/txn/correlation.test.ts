// The correlation id of the request that starts a transaction stays with its record, so the
// recovery that may finish the transaction much later (the sweeper) reports the same work:
// through the API (x-correlation-id → the record → GET /txn/:id) and through the sweeper's
// observer after the coordinator crashed, on DynamoDB Local.
import {
  type Clock,
  CoordinatorCrashError,
  executeTransaction,
  sweep,
  type TransactionRecord,
} from '@meridian/txn'
import { describe, expect, it } from 'vitest'
import { app, bearer, createKey, uniqueTenant } from '../api/support'
import { coordinatorCrashingAt, dynamoPorts, testCoordinatorOptions, unique } from './support'

describe('a transaction keeps the correlation id of the request that started it', () => {
  it('is recorded from the API request and shown by GET /txn/:id', async () => {
    const { key } = await createKey(uniqueTenant('txn-corr'), ['txn'])
    const id = `corr-${unique()}`
    const correlationId = `order-flow-${unique()}`
    const committed = await app.request('/txn', {
      method: 'POST',
      headers: {
        ...bearer(key),
        'content-type': 'application/json',
        'x-correlation-id': correlationId,
      },
      body: JSON.stringify({ id, operations: [{ op: 'put', key: 'a', value: '1' }] }),
    })
    expect(committed.status).toBe(200)

    const record = await app.request(`/txn/${id}`, { headers: bearer(key) })
    expect(await record.json()).toMatchObject({ id, state: 'COMMITTED', correlationId })
  })

  it('is what the sweeper reports when it finishes a crashed coordinator’s transaction', async () => {
    let offsetMs = 0
    const clock: Clock = { nowMs: () => Date.now() + offsetMs }
    const ports = dynamoPorts(clock)
    const tenant = `corr-${unique()}`
    const id = `t-${unique()}`
    const crash = await executeTransaction(
      ports,
      {
        tenant,
        id,
        protocol: '2pc',
        correlationId: 'nightly-settlement-7',
        operations: [
          { kind: 'put', key: 'x', value: new Uint8Array([1]), contentType: 'text/plain' },
        ],
      },
      coordinatorCrashingAt('after-prepare-0'),
    ).catch((error: unknown) => error)
    expect(crash).toBeInstanceOf(CoordinatorCrashError)

    // The coordinator's lease runs out; the sweeper decides and settles the transaction.
    offsetMs += 60_000
    const visited: TransactionRecord[] = []
    const failed: unknown[] = []
    await sweep(
      ports,
      { ...testCoordinatorOptions, limit: 10, tenant },
      {
        visited: (record) => visited.push(record),
        failed: (error) => failed.push(error),
      },
    )
    expect(failed).toEqual([])
    expect(visited).toHaveLength(1)
    expect(visited[0]).toMatchObject({
      id,
      state: 'ABORTED',
      correlationId: 'nightly-settlement-7',
    })
  })
})
