// The lock service against DynamoDB Local: acquire, renew, release, takeover after
// expiry, the release/renew race, fences that increase across release, expiry, takeover
// and cleanup, holder info on failure, waiting, and withLock's background renewal.
// Skewed clocks are clocks with an offset, so no test waits for a lease to run out.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import {
  type Clock,
  DynamoLockTable,
  LockHeldError,
  LockLostError,
  LockNotHeldError,
  LockService,
  type LockTable,
  systemClock,
} from '@meridian/lock'
import { describe, expect, it } from 'vitest'
import { coordinationTableName, dynamoLockTable, uniqueTenant } from './support'

function offsetClock(offsetMs: number): Clock {
  return { nowMs: () => Date.now() + offsetMs, sleep: systemClock.sleep }
}

function service(options: { clock?: Clock; table?: LockTable; clockSkewMarginMs?: number } = {}) {
  return new LockService({ table: dynamoLockTable(), clockSkewMarginMs: 200, ...options })
}

describe('lock service on DynamoDB Local', () => {
  it('grants a new lock with fence 1 and refuses a second owner, naming the holder', async () => {
    const tenant = uniqueTenant()
    const locks = service()
    const lease = await locks.acquire(tenant, 'job', { leaseMs: 5_000, owner: 'a' })
    expect(lease).toMatchObject({ tenant, name: 'job', owner: 'a', fence: 1 })
    const error = await locks.acquire(tenant, 'job', { leaseMs: 5_000, owner: 'b' }).catch((e) => e)
    expect(error).toBeInstanceOf(LockHeldError)
    expect(error).toMatchObject({ holder: 'a', fence: 1, leaseUntilMs: lease.leaseUntilMs })
  })

  it('renews and releases only with the holding owner and fence', async () => {
    const tenant = uniqueTenant()
    const locks = service()
    const lease = await locks.acquire(tenant, 'job', { leaseMs: 1_000, owner: 'a' })
    const renewed = await locks.renew(tenant, 'job', { owner: 'a', fence: 1, leaseMs: 9_000 })
    expect(renewed.leaseUntilMs).toBeGreaterThan(lease.leaseUntilMs)
    await expect(
      locks.renew(tenant, 'job', { owner: 'a', fence: 2, leaseMs: 1_000 }),
    ).rejects.toThrow(LockNotHeldError)
    await expect(locks.release(tenant, 'job', { owner: 'b', fence: 1 })).rejects.toThrow(
      LockNotHeldError,
    )
    await locks.release(tenant, 'job', { owner: 'a', fence: 1 })
    expect(await locks.inspect(tenant, 'job')).toEqual({ name: 'job', fence: 1, held: false })
    await expect(
      locks.renew(tenant, 'job', { owner: 'a', fence: 1, leaseMs: 1_000 }),
    ).rejects.toThrow(LockNotHeldError)
  })

  it('lets a waiter take over only after the lease plus the skew margin, and fences out the old holder', async () => {
    const tenant = uniqueTenant()
    // A wide margin, so the test's own latency can't move an attempt across the bound.
    const holder = service({ clockSkewMarginMs: 5_000 })
    await holder.acquire(tenant, 'job', { leaseMs: 1_000, owner: 'a' })
    // Past the lease but within the margin: still held.
    const early = service({ clock: offsetClock(2_000), clockSkewMarginMs: 5_000 })
    await expect(early.acquire(tenant, 'job', { leaseMs: 1_000, owner: 'b' })).rejects.toThrow(
      LockHeldError,
    )
    const late = service({ clock: offsetClock(6_500), clockSkewMarginMs: 5_000 })
    const taken = await late.acquire(tenant, 'job', { leaseMs: 1_000, owner: 'b' })
    expect(taken.fence).toBe(2)
    const renew = holder.renew(tenant, 'job', { owner: 'a', fence: 1, leaseMs: 1_000 })
    await expect(renew).rejects.toMatchObject({ current: { owner: 'b', fence: 2 } })
    await expect(holder.release(tenant, 'job', { owner: 'a', fence: 1 })).rejects.toThrow(
      LockNotHeldError,
    )
  })

  it('never reports a release as successful while a racing renewal keeps the lock held', async () => {
    const tenant = uniqueTenant()
    const locks = service()
    for (let round = 0; round < 15; round++) {
      const lease = await locks.acquire(tenant, 'race', { leaseMs: 5_000, owner: `o${round}` })
      const input = { owner: lease.owner, fence: lease.fence }
      const [renew, release] = await Promise.allSettled([
        locks.renew(tenant, 'race', { ...input, leaseMs: 5_000 }),
        locks.release(tenant, 'race', input),
      ])
      expect(release.status).toBe('fulfilled')
      const state = await locks.inspect(tenant, 'race')
      expect(state?.held).toBe(false)
      if (renew.status === 'rejected') expect(renew.reason).toBeInstanceOf(LockNotHeldError)
    }
  })

  it('keeps the fence strictly increasing across release, expiry, takeover and cleanup', async () => {
    const tenant = uniqueTenant()
    const locks = service()
    const fences: number[] = []
    let lease = await locks.acquire(tenant, 'job', { leaseMs: 1_000, owner: 'a' })
    fences.push(lease.fence)
    await locks.release(tenant, 'job', { owner: 'a', fence: lease.fence })
    lease = await locks.acquire(tenant, 'job', { leaseMs: 1_000, owner: 'b' })
    fences.push(lease.fence)
    // b crashes; c takes over after expiry.
    const later = service({ clock: offsetClock(5_000) })
    lease = await later.acquire(tenant, 'job', { leaseMs: 1_000, owner: 'c' })
    fences.push(lease.fence)
    await later.release(tenant, 'job', { owner: 'c', fence: lease.fence })
    // Idle for a long while: the item is cleaned up, the tenant floor keeps its fence.
    const muchLater = service({ clock: offsetClock(3_600_000) })
    expect(await muchLater.cleanupIdle(tenant, 'job', { idleForMs: 60_000 })).toBe(true)
    expect(await muchLater.inspect(tenant, 'job')).toBeUndefined()
    lease = await muchLater.acquire(tenant, 'job', { leaseMs: 1_000, owner: 'd' })
    fences.push(lease.fence)
    // A crashed holder's item is cleaned up too, once long expired.
    const evenLater = service({ clock: offsetClock(7_200_000) })
    expect(await evenLater.cleanupIdle(tenant, 'job', { idleForMs: 60_000 })).toBe(true)
    lease = await evenLater.acquire(tenant, 'job', { leaseMs: 1_000, owner: 'e' })
    fences.push(lease.fence)
    expect(fences).toEqual([1, 2, 3, 4, 5])
  })

  it('does not clean up a held lock', async () => {
    const tenant = uniqueTenant()
    const locks = service()
    await locks.acquire(tenant, 'job', { leaseMs: 60_000, owner: 'a' })
    expect(await locks.cleanupIdle(tenant, 'job', { idleForMs: 0 })).toBe(false)
    expect(await locks.inspect(tenant, 'job')).toMatchObject({ held: true, owner: 'a', fence: 1 })
  })

  it('waits for a release and acquires right after it', async () => {
    const tenant = uniqueTenant()
    const locks = service()
    const first = await locks.acquire(tenant, 'job', { leaseMs: 10_000, owner: 'a' })
    const waiting = locks.acquire(tenant, 'job', { leaseMs: 10_000, owner: 'b', waitMs: 5_000 })
    await systemClock.sleep(100)
    await locks.release(tenant, 'job', { owner: 'a', fence: first.fence })
    expect(await waiting).toMatchObject({ owner: 'b', fence: 2 })
  })

  it('gives up after waitMs with the holder named', async () => {
    const tenant = uniqueTenant()
    const locks = service()
    await locks.acquire(tenant, 'job', { leaseMs: 10_000, owner: 'a' })
    const error = await locks
      .acquire(tenant, 'job', { leaseMs: 1_000, owner: 'b', waitMs: 150 })
      .catch((e) => e)
    expect(error).toBeInstanceOf(LockHeldError)
    expect(error.holder).toBe('a')
    expect(error.attempts).toBeGreaterThan(1)
  })

  it('adopts its own grant when the answer to its acquire was lost', async () => {
    const tenant = uniqueTenant()
    const real = dynamoLockTable()
    let lose = true
    const lossy: LockTable = Object.assign(Object.create(real), {
      async acquire(...args: Parameters<LockTable['acquire']>) {
        const result = await real.acquire(...args)
        if (!lose) return result
        lose = false
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })
      },
      async create(...args: Parameters<LockTable['create']>) {
        const result = await real.create(...args)
        if (!lose) return result
        lose = false
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })
      },
    })
    const locks = service({ table: lossy })
    const lease = await locks.acquire(tenant, 'job', { leaseMs: 5_000, owner: 'a', waitMs: 1_000 })
    expect(lease).toMatchObject({ owner: 'a', fence: 1 })
  })

  it('adopts its own grant when the SDK resent an acquire whose first answer was lost', async () => {
    const tenant = uniqueTenant()
    const locks = service()
    const first = await locks.acquire(tenant, 'job', { leaseMs: 5_000, owner: 'a' })
    await locks.release(tenant, 'job', { owner: 'a', fence: first.fence })

    // A client whose first answer is lost after DynamoDB applied the write: the SDK's own
    // retry resends it, and the resent write's condition fails on that first write's grant.
    const client = new DynamoDBClient({ region: process.env.AWS_REGION ?? 'us-east-1' })
    let answersLost = 0
    client.middlewareStack.add(
      (next) => async (args) => {
        const output = await next(args)
        if (answersLost++ > 0) return output
        throw Object.assign(new Error('answer lost after the write applied'), {
          name: 'TimeoutError',
          $metadata: {},
        })
      },
      { step: 'deserialize', name: 'loseFirstAnswer' },
    )
    const resending = new DynamoLockTable(client, coordinationTableName())
    const lease = await service({ table: resending }).acquire(tenant, 'job', {
      leaseMs: 5_000,
      owner: 'b',
    })
    expect(answersLost).toBe(2)
    expect(lease).toMatchObject({ owner: 'b', fence: first.fence + 1 })
    expect(await locks.inspect(tenant, 'job')).toMatchObject({ owner: 'b', fence: first.fence + 1 })
  })

  it('never adopts a lease of the same owner name that its own write did not make', async () => {
    const tenant = uniqueTenant()
    const locks = service()
    // Another process holds the lock under the same owner name.
    const held = await locks.acquire(tenant, 'job', { leaseMs: 5_000, owner: 'worker-7' })

    // This client's first send is throttled before it reaches DynamoDB; the SDK resends it,
    // and the resent write's condition fails on the other process's live lease.
    const client = new DynamoDBClient({ region: process.env.AWS_REGION ?? 'us-east-1' })
    let throttled = 0
    client.middlewareStack.add(
      (next) => async (args) => {
        if (throttled++ > 0) return next(args)
        throw Object.assign(new Error('throttled'), {
          name: 'ThrottlingException',
          $metadata: { httpStatusCode: 400 },
        })
      },
      { step: 'deserialize', name: 'throttleFirstSend' },
    )
    const error = await service({ table: new DynamoLockTable(client, coordinationTableName()) })
      .acquire(tenant, 'job', { leaseMs: 5_000, owner: 'worker-7' })
      .catch((caught: unknown) => caught)
    expect(throttled).toBeGreaterThanOrEqual(2)
    expect(error).toBeInstanceOf(LockHeldError)
    expect(error).toMatchObject({ holder: 'worker-7', fence: held.fence })
  })
})

describe('withLock on DynamoDB Local', () => {
  it('renews in the background while fn runs and releases afterwards', async () => {
    const tenant = uniqueTenant()
    const locks = service()
    const result = await locks.withLock(
      tenant,
      'job',
      async ({ fence, signal, lease }) => {
        const first = lease().leaseUntilMs
        // Outlive the lease by half: only renewals keep it. (A 300 ms lease was cut short
        // under CI load, when one renewal round trip took most of it.)
        await systemClock.sleep(1_500)
        expect(signal.aborted).toBe(false)
        expect(lease().leaseUntilMs).toBeGreaterThan(first)
        expect(await locks.inspect(tenant, 'job')).toMatchObject({ held: true, fence })
        return fence
      },
      { leaseMs: 1_000 },
    )
    expect(result).toBe(1)
    expect(await locks.inspect(tenant, 'job')).toMatchObject({ held: false, fence: 1 })
  })

  it('aborts fn’s signal with LockLostError when the lock is taken over', async () => {
    const tenant = uniqueTenant()
    const locks = service()
    const thief = service({ clock: offsetClock(60_000) })
    const reason = await locks.withLock(
      tenant,
      'job',
      async ({ signal }) => {
        await thief.acquire(tenant, 'job', { leaseMs: 60_000, owner: 'thief' })
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
        return signal.reason
      },
      { leaseMs: 300 },
    )
    expect(reason).toBeInstanceOf(LockLostError)
    expect(await locks.inspect(tenant, 'job')).toMatchObject({ owner: 'thief', fence: 2 })
  })

  it('keeps renewing through throttling while the lease is valid', async () => {
    const tenant = uniqueTenant()
    const real = dynamoLockTable()
    let renewCalls = 0
    const throttling: LockTable = Object.assign(Object.create(real), {
      renew(...args: Parameters<LockTable['renew']>) {
        renewCalls++
        if (renewCalls % 3 !== 0)
          return Promise.reject(
            Object.assign(new Error('slow down'), {
              name: 'ProvisionedThroughputExceededException',
            }),
          )
        return real.renew(...args)
      },
    })
    const locks = service({ table: throttling })
    const aborted = await locks.withLock(
      tenant,
      'job',
      async ({ signal }) => {
        await systemClock.sleep(900)
        return signal.aborted
      },
      { leaseMs: 300 },
    )
    expect(aborted).toBe(false)
    expect(renewCalls).toBeGreaterThan(3)
  })

  it('aborts before the lease lapses when every renewal fails, and leaves nothing behind', async () => {
    const tenant = uniqueTenant()
    const real = dynamoLockTable()
    const failing: LockTable = Object.assign(Object.create(real), {
      renew: () =>
        Promise.reject(Object.assign(new Error('throttled'), { name: 'ThrottlingException' })),
    })
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    const locks = service({ table: failing })
    const observed = await locks.withLock(
      tenant,
      'job',
      async ({ signal, lease }) => {
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
        return { atMs: Date.now(), leaseUntilMs: lease().leaseUntilMs, reason: signal.reason }
      },
      { leaseMs: 300 },
    )
    expect(observed.reason).toBeInstanceOf(LockLostError)
    expect(observed.atMs).toBeLessThan(observed.leaseUntilMs)
    await systemClock.sleep(20)
    process.off('unhandledRejection', onUnhandled)
    expect(unhandled).toEqual([])
    const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    expect(timersAfter).toBeLessThanOrEqual(timersBefore)
  })
})
