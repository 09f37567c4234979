// The contract every TransactionLog and Participant implementation keeps. It runs against
// the in-memory doubles (unit project) and the DynamoDB adapters on DynamoDB Local
// (integration project), so the simulation's doubles can't drift from the engine.
import { describe, expect, it } from 'vitest'
import type { Participant, TransactionLog } from '../ports'
import type { TransactionRecord } from '../record'

export interface PortsUnderTest {
  log: TransactionLog
  participant: Participant
  regions: readonly string[]
}

const encoder = new TextEncoder()
const unique = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`

function record(overrides: Partial<TransactionRecord> = {}): TransactionRecord {
  const id = overrides.id ?? `t-${unique()}`
  return {
    tenant: 'contract',
    id,
    state: 'PENDING',
    protocol: '2pc',
    participants: [{ key: 'a', storageKey: 'contract#a', region: 'r', kind: 'put' }],
    fingerprint: 'f',
    owner: 'owner-1',
    leaseUntilMs: 2_000,
    deadlineMs: 1_000,
    createdAtMs: 0,
    attentionDueAtMs: 2_000,
    ...overrides,
  }
}

export function transactionPortsContract(name: string, create: () => PortsUnderTest): void {
  describe(`${name}: TransactionLog contract`, () => {
    it('creates a record once and returns the existing one to a second create', async () => {
      const { log } = create()
      const first = record()
      expect(await log.create(first)).toEqual({ created: true })
      const second = await log.create({ ...first, owner: 'owner-2' })
      expect(second.created).toBe(false)
      expect(second.created === false && second.existing.owner).toBe('owner-1')
      expect(await log.read(first.tenant, first.id)).toMatchObject({
        state: 'PENDING',
        participants: first.participants,
      })
    })

    it('transitions only from the stated state and returns the current record otherwise', async () => {
      const { log } = create()
      const subject = record()
      await log.create(subject)
      const committed = await log.transition({
        tenant: subject.tenant,
        id: subject.id,
        from: 'PENDING',
        to: 'COMMITTED',
        decidedAtMs: 500,
        attentionDueAtMs: 900,
        expiresAt: 99,
        outcomes: [{ key: 'a', kind: 'put', vote: 'yes', version: 1 }],
      })
      expect(committed.applied && committed.record).toMatchObject({
        state: 'COMMITTED',
        decidedAtMs: 500,
        attentionDueAtMs: 900,
        expiresAt: 99,
      })
      const late = await log.transition({
        tenant: subject.tenant,
        id: subject.id,
        from: 'PENDING',
        to: 'ABORTED',
      })
      expect(late.applied).toBe(false)
      expect(!late.applied && late.current?.state).toBe('COMMITTED')
    })

    it('lets recovery abort only after the coordinator lease expired', async () => {
      const { log } = create()
      const subject = record({ leaseUntilMs: 2_000 })
      await log.create(subject)
      const early = await log.transition({
        tenant: subject.tenant,
        id: subject.id,
        from: 'PENDING',
        to: 'ABORTED',
        leaseExpiredAtMs: 1_500,
      })
      expect(early.applied).toBe(false)
      const late = await log.transition({
        tenant: subject.tenant,
        id: subject.id,
        from: 'PENDING',
        to: 'ABORTED',
        leaseExpiredAtMs: 2_500,
        abortReason: 'coordinator-lease-expired',
      })
      expect(late.applied && late.record.abortReason).toBe('coordinator-lease-expired')
    })

    it("finds a tenant's due record behind many other tenants' records due earlier", async () => {
      const { log } = create()
      const tenant = `c${unique()}`
      // Due at 500–649, before this tenant's at 700: a tenant-filtered listing must walk past them.
      await Promise.all(
        Array.from({ length: 150 }, (_, index) =>
          log.create(record({ tenant: `o${unique()}`, attentionDueAtMs: 500 + index })),
        ),
      )
      const mine = record({ tenant, attentionDueAtMs: 700 })
      await log.create(mine)
      const listed = await log.listAttention({ tenant, dueBeforeMs: 800, limit: 10 })
      expect(listed.map((entry) => entry.id)).toEqual([mine.id])
    })

    it('reports a transition of a missing record as not applied with no current record', async () => {
      const { log } = create()
      const result = await log.transition({
        tenant: 'contract',
        id: `missing-${unique()}`,
        from: 'PENDING',
        to: 'ABORTED',
      })
      expect(result).toEqual({ applied: false, current: undefined })
    })

    it('lists records due for attention by tenant and clears only final ones', async () => {
      const { log } = create()
      const tenant = `c${unique()}`
      const due = record({ tenant, attentionDueAtMs: 1_000 })
      const later = record({ tenant, attentionDueAtMs: 5_000 })
      await log.create(due)
      await log.create(later)
      const listed = await log.listAttention({ tenant, dueBeforeMs: 2_000, limit: 10 })
      expect(listed.map((entry) => entry.id)).toEqual([due.id])
      expect((await log.listAttention({ tenant, limit: 10 })).map((entry) => entry.id)).toEqual([
        due.id,
        later.id,
      ])
      expect(await log.clearAttention(tenant, due.id)).toBe(false)
      await log.transition({ tenant, id: due.id, from: 'PENDING', to: 'ABORTED' })
      expect(await log.clearAttention(tenant, due.id)).toBe(true)
      expect((await log.listAttention({ tenant, limit: 10 })).map((entry) => entry.id)).toEqual([
        later.id,
      ])
      expect((await log.read(tenant, due.id))?.attentionDueAtMs).toBeUndefined()
    })
  })

  describe(`${name}: Participant contract`, () => {
    const put = (
      transactionId: string,
      storageKey: string,
      region: string,
      text: string,
      expectedVersion?: number | 'absent',
    ) => ({
      region,
      storageKey,
      transactionId,
      operation: 'put' as const,
      value: encoder.encode(text),
      contentType: 'text/plain',
      nowMs: 1,
      ...(expectedVersion !== undefined && { expectedVersion }),
    })

    it('stages a put as an intent, refuses a second transaction, and applies it', async () => {
      const { participant, regions } = create()
      const region = regions[0]!
      const key = `contract#${unique()}`
      expect(await participant.prepare(put('t1', key, region, 'one', 'absent'))).toEqual({
        vote: 'yes',
        baseVersion: 0,
      })
      expect(await participant.prepare(put('t1', key, region, 'one', 'absent'))).toEqual({
        vote: 'yes',
        baseVersion: 0,
      })
      expect(await participant.prepare(put('t2', key, region, 'two'))).toMatchObject({
        vote: 'no',
        reason: 'intent-held',
        heldBy: 't1',
      })
      expect((await participant.read(region, key))?.intent).toMatchObject({
        transactionId: 't1',
        operation: 'put',
        baseVersion: 0,
      })
      expect(
        await participant.apply({
          region,
          storageKey: key,
          transactionId: 't2',
          operation: 'put',
          nowMs: 2,
        }),
      ).toBe('not-held')
      expect(
        await participant.apply({
          region,
          storageKey: key,
          transactionId: 't1',
          operation: 'put',
          nowMs: 2,
        }),
      ).toBe('applied')
      expect(
        await participant.apply({
          region,
          storageKey: key,
          transactionId: 't1',
          operation: 'put',
          nowMs: 2,
        }),
      ).toBe('not-held')
      const item = await participant.read(region, key)
      expect(item).toMatchObject({ version: 1, deleted: false, contentType: 'text/plain' })
      expect(item?.intent).toBeUndefined()
      expect(new TextDecoder().decode(item?.value)).toBe('one')
    })

    it('votes no with the current version on a version mismatch', async () => {
      const { participant, regions } = create()
      const region = regions[1] ?? regions[0]!
      const key = `contract#${unique()}`
      await participant.prepare(put('t1', key, region, 'one', 'absent'))
      await participant.apply({
        region,
        storageKey: key,
        transactionId: 't1',
        operation: 'put',
        nowMs: 2,
      })
      expect(await participant.prepare(put('t2', key, region, 'x', 'absent'))).toEqual({
        vote: 'no',
        reason: 'version-mismatch',
        currentVersion: 1,
      })
      expect(await participant.prepare(put('t2', key, region, 'x', 7))).toEqual({
        vote: 'no',
        reason: 'version-mismatch',
        currentVersion: 1,
      })
      expect(
        await participant.check({
          region,
          storageKey: key,
          transactionId: 't3',
          expectedVersion: 1,
        }),
      ).toEqual({ vote: 'yes', baseVersion: 1 })
      expect(
        await participant.check({
          region,
          storageKey: key,
          transactionId: 't3',
          expectedVersion: 2,
        }),
      ).toMatchObject({ vote: 'no', reason: 'version-mismatch' })
      expect(await participant.prepare(put('t2', key, region, 'two', 1))).toEqual({
        vote: 'yes',
        baseVersion: 1,
      })
      expect(await participant.discard(region, key, 't9')).toBe('not-held')
      expect(await participant.discard(region, key, 't2')).toBe('discarded')
      expect(await participant.read(region, key)).toMatchObject({ version: 1, deleted: false })
    })

    it('deletes to a tombstone and re-creates over it with the next version', async () => {
      const { participant, regions } = create()
      const region = regions[2] ?? regions[0]!
      const key = `contract#${unique()}`
      expect(
        await participant.prepare({
          region,
          storageKey: key,
          transactionId: 't0',
          operation: 'delete',
          nowMs: 1,
        }),
      ).toMatchObject({ vote: 'no', reason: 'not-found' })
      await participant.prepare(put('t1', key, region, 'one'))
      await participant.apply({
        region,
        storageKey: key,
        transactionId: 't1',
        operation: 'put',
        nowMs: 2,
      })
      expect(
        await participant.prepare({
          region,
          storageKey: key,
          transactionId: 't2',
          operation: 'delete',
          expectedVersion: 1,
          nowMs: 3,
        }),
      ).toEqual({ vote: 'yes', baseVersion: 1 })
      expect(
        await participant.apply({
          region,
          storageKey: key,
          transactionId: 't2',
          operation: 'delete',
          nowMs: 4,
        }),
      ).toBe('applied')
      const tombstone = await participant.read(region, key)
      expect(tombstone).toMatchObject({ version: 2, deleted: true })
      expect(tombstone?.value).toBeUndefined()
      expect(await participant.prepare(put('t3', key, region, 'again', 'absent'))).toEqual({
        vote: 'yes',
        baseVersion: 2,
      })
      await participant.apply({
        region,
        storageKey: key,
        transactionId: 't3',
        operation: 'put',
        nowMs: 5,
      })
      expect(await participant.read(region, key)).toMatchObject({ version: 3, deleted: false })
    })
  })
}
