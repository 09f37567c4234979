// The LockTable port's contract: one suite, run against every implementation (the
// DynamoDB adapter on DynamoDB Local and the in-memory double the simulation uses), so
// the simulation checks the protocol over the engine's real semantics.
import type { LockKey, LockTable } from '@meridian/lock'
import { describe, expect, it } from 'vitest'

let counter = 0
function uniqueKey(): LockKey {
  counter++
  return {
    tenant: `t${Date.now().toString(36)}${counter}${Math.floor(Math.random() * 1e6)}`,
    name: 'job',
  }
}

const grant = (owner: string, nowMs: number, leaseMs = 1_000, marginMs = 100) => ({
  owner,
  nowMs,
  leaseUntilMs: nowMs + leaseMs,
  expiredBeforeMs: nowMs - marginMs,
})

export function lockTableContract(implementation: string, makeTable: () => LockTable) {
  describe(`LockTable contract: ${implementation}`, () => {
    it('refuses to acquire a lock item that does not exist, reporting no current item', async () => {
      const table = makeTable()
      const result = await table.acquire(uniqueKey(), grant('a', 1_000))
      expect(result).toEqual({ ok: false, current: undefined })
    })

    it('creates a lock once, and a second create reports the holder', async () => {
      const table = makeTable()
      const key = uniqueKey()
      const created = await table.create(key, { ...grant('a', 1_000), fence: 7 })
      expect(created).toEqual({
        ok: true,
        record: { owner: 'a', fence: 7, leaseUntilMs: 2_000, updatedAtMs: 1_000 },
      })
      const again = await table.create(key, { ...grant('b', 1_000), fence: 1 })
      expect(again).toMatchObject({ ok: false, current: { owner: 'a', fence: 7 } })
    })

    it('refuses to take a held lock and returns the holder from the failed write', async () => {
      const table = makeTable()
      const key = uniqueKey()
      await table.create(key, { ...grant('a', 1_000), fence: 1 })
      const result = await table.acquire(key, grant('b', 1_500))
      expect(result).toEqual({
        ok: false,
        current: { owner: 'a', fence: 1, leaseUntilMs: 2_000, updatedAtMs: 1_000 },
      })
    })

    it('takes a lock only once its lease is older than the expiry bound, bumping the fence', async () => {
      const table = makeTable()
      const key = uniqueKey()
      await table.create(key, { ...grant('a', 1_000), fence: 1 })
      // leaseUntil 2000 is not below expiredBefore 2000 - 0: still held.
      const atBound = await table.acquire(key, { ...grant('b', 2_000), expiredBeforeMs: 2_000 })
      expect(atBound.ok).toBe(false)
      const taken = await table.acquire(key, { ...grant('b', 2_200), expiredBeforeMs: 2_001 })
      expect(taken).toEqual({
        ok: true,
        record: { owner: 'b', fence: 2, leaseUntilMs: 3_200, updatedAtMs: 2_200 },
      })
    })

    it('renews only for the holding owner and fence', async () => {
      const table = makeTable()
      const key = uniqueKey()
      await table.create(key, { ...grant('a', 1_000), fence: 3 })
      const wrongFence = await table.renew(key, {
        owner: 'a',
        fence: 2,
        leaseUntilMs: 9_000,
        nowMs: 1_100,
      })
      expect(wrongFence).toMatchObject({
        ok: false,
        current: { owner: 'a', fence: 3, leaseUntilMs: 2_000 },
      })
      const wrongOwner = await table.renew(key, {
        owner: 'b',
        fence: 3,
        leaseUntilMs: 9_000,
        nowMs: 1_100,
      })
      expect(wrongOwner.ok).toBe(false)
      const renewed = await table.renew(key, {
        owner: 'a',
        fence: 3,
        leaseUntilMs: 9_000,
        nowMs: 1_100,
      })
      expect(renewed).toEqual({
        ok: true,
        record: { owner: 'a', fence: 3, leaseUntilMs: 9_000, updatedAtMs: 1_100 },
      })
    })

    it('releases without deleting: the fence stays and the next grant bumps it', async () => {
      const table = makeTable()
      const key = uniqueKey()
      await table.create(key, { ...grant('a', 1_000), fence: 5 })
      const released = await table.release(key, { owner: 'a', fence: 5, nowMs: 1_100 })
      expect(released).toEqual({ ok: true, record: { fence: 5, updatedAtMs: 1_100 } })
      expect(await table.read(key)).toEqual({ fence: 5, updatedAtMs: 1_100 })
      const renewAfter = await table.renew(key, {
        owner: 'a',
        fence: 5,
        leaseUntilMs: 9_000,
        nowMs: 1_200,
      })
      expect(renewAfter).toEqual({ ok: false, current: { fence: 5, updatedAtMs: 1_100 } })
      const releaseAgain = await table.release(key, { owner: 'a', fence: 5, nowMs: 1_200 })
      expect(releaseAgain.ok).toBe(false)
      const next = await table.acquire(key, grant('b', 1_300))
      expect(next).toMatchObject({ ok: true, record: { owner: 'b', fence: 6 } })
    })

    it('rejects renew and release by a holder whose lock was taken over', async () => {
      const table = makeTable()
      const key = uniqueKey()
      await table.create(key, { ...grant('a', 1_000), fence: 1 })
      await table.acquire(key, { ...grant('b', 5_000), expiredBeforeMs: 4_000 })
      const renew = await table.renew(key, {
        owner: 'a',
        fence: 1,
        leaseUntilMs: 9_000,
        nowMs: 5_000,
      })
      expect(renew).toMatchObject({ ok: false, current: { owner: 'b', fence: 2 } })
      const release = await table.release(key, { owner: 'a', fence: 1, nowMs: 5_000 })
      expect(release).toMatchObject({ ok: false, current: { owner: 'b', fence: 2 } })
    })

    it('removes only idle items, raising the tenant fence floor to the highest removed fence', async () => {
      const table = makeTable()
      const key = uniqueKey()
      const other = { tenant: key.tenant, name: 'other' }
      expect(await table.readFenceFloor(key.tenant)).toBe(0)
      await table.create(key, { ...grant('a', 1_000), fence: 9 })
      const whileHeld = await table.removeIdle(key, { fence: 9, idleBeforeMs: 1_500 })
      expect(whileHeld).toMatchObject({ ok: false, current: { owner: 'a', fence: 9 } })
      await table.release(key, { owner: 'a', fence: 9, nowMs: 1_100 })
      expect((await table.removeIdle(key, { fence: 8, idleBeforeMs: 5_000 })).ok).toBe(false)
      expect((await table.removeIdle(key, { fence: 9, idleBeforeMs: 1_100 })).ok).toBe(false)
      const removed = await table.removeIdle(key, { fence: 9, idleBeforeMs: 5_000 })
      expect(removed).toMatchObject({ ok: true, record: { fence: 9 } })
      expect(await table.read(key)).toBeUndefined()
      expect(await table.readFenceFloor(key.tenant)).toBe(9)
      // A lower fence removed later never lowers the floor.
      await table.create(other, { ...grant('a', 1_000), fence: 2 })
      await table.release(other, { owner: 'a', fence: 2, nowMs: 1_000 })
      expect((await table.removeIdle(other, { fence: 2, idleBeforeMs: 5_000 })).ok).toBe(true)
      expect(await table.readFenceFloor(key.tenant)).toBe(9)
    })

    it('removes a crashed holder’s item once its lease is long expired', async () => {
      const table = makeTable()
      const key = uniqueKey()
      await table.create(key, { ...grant('a', 1_000), fence: 4 })
      const removed = await table.removeIdle(key, { fence: 4, idleBeforeMs: 10_000 })
      expect(removed.ok).toBe(true)
      expect(await table.readFenceFloor(key.tenant)).toBe(4)
    })

    it('keeps tenants apart: the same name in two tenants are two locks', async () => {
      const table = makeTable()
      const key = uniqueKey()
      await table.create(key, { ...grant('a', 1_000), fence: 1 })
      const otherTenant = { tenant: `${key.tenant}x`, name: key.name }
      expect(await table.read(otherTenant)).toBeUndefined()
      expect((await table.create(otherTenant, { ...grant('b', 1_000), fence: 1 })).ok).toBe(true)
    })
  })
}
