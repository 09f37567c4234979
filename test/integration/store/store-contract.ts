// The contract every RegionalStore implementation keeps, as one suite that takes a factory:
// the DynamoDB adapter runs it against DynamoDB Local, and any simulation double must run it
// too, so a double can't drift from the real engine.
import {
  type Intent,
  KeyInTransactionError,
  KeyNotFoundError,
  type RegionalStore,
  StaleFenceError,
  VersionMismatchError,
} from '@meridian/store'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

export interface StoreUnderTest {
  store: RegionalStore
  /** Stages a transaction intent on a key, as the transactions package does. */
  stageIntent(storageKey: string, intent: Intent): Promise<void>
}

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (value: Uint8Array | undefined) => new TextDecoder().decode(value)
const plain = (value: string) => ({ value: bytes(value), contentType: 'text/plain' })

export function storeContract(name: string, factory: () => StoreUnderTest) {
  describe(`regional store contract: ${name}`, () => {
    const { store, stageIntent } = factory()
    const uniqueKey = () => `default#contract-${crypto.randomUUID()}`

    it('reads nothing for a key never written', async () => {
      expect(await store.get(uniqueKey())).toBeUndefined()
    })

    it('creates a key at version 1 and raises the version by one per put', async () => {
      const key = uniqueKey()
      expect(await store.put(key, plain('a'))).toEqual({ version: 1, created: true })
      expect(await store.put(key, plain('b'))).toEqual({ version: 2, created: false })
      const item = await store.get(key)
      expect(item).toMatchObject({
        storageKey: key,
        version: 2,
        deleted: false,
        contentType: 'text/plain',
      })
      expect(text(item?.value)).toBe('b')
    })

    it('round-trips arbitrary bytes, including an empty value', async () => {
      const key = uniqueKey()
      const value = new Uint8Array([0, 255, 1, 254, 0])
      await store.put(key, { value, contentType: 'application/octet-stream' })
      expect((await store.get(key))?.value).toEqual(value)
      const empty = uniqueKey()
      await store.put(empty, { value: new Uint8Array(), contentType: 'text/plain' })
      expect(await store.get(empty)).toMatchObject({ version: 1, deleted: false })
      expect((await store.get(empty))?.value?.byteLength ?? 0).toBe(0)
    })

    it('applies a compare-and-swap on the expected version and refuses it on another', async () => {
      const key = uniqueKey()
      await store.put(key, plain('a'))
      expect(await store.put(key, plain('b'), { expectedVersion: 1 })).toMatchObject({ version: 2 })
      const failure = await store.put(key, plain('c'), { expectedVersion: 1 }).catch((e) => e)
      expect(failure).toBeInstanceOf(VersionMismatchError)
      expect(failure).toMatchObject({ key, expectedVersion: 1, actualVersion: 2 })
      expect(text((await store.get(key))?.value)).toBe('b')
    })

    it('reports a compare-and-swap on a key never written as a mismatch with no actual version', async () => {
      const key = uniqueKey()
      const failure = await store.put(key, plain('a'), { expectedVersion: 3 }).catch((e) => e)
      expect(failure).toBeInstanceOf(VersionMismatchError)
      expect(failure).toMatchObject({ expectedVersion: 3, actualVersion: undefined })
      expect(await store.get(key)).toBeUndefined()
    })

    it('lets exactly one of concurrent compare-and-swaps on the same version win', async () => {
      const key = uniqueKey()
      await store.put(key, plain('start'))
      const attempts = await Promise.allSettled(
        Array.from({ length: 6 }, (_, index) =>
          store.put(key, plain(`w${index}`), { expectedVersion: 1 }),
        ),
      )
      const winners = attempts.filter((attempt) => attempt.status === 'fulfilled')
      expect(winners).toHaveLength(1)
      for (const attempt of attempts) {
        if (attempt.status === 'rejected') {
          expect(attempt.reason).toBeInstanceOf(VersionMismatchError)
          expect(attempt.reason).toMatchObject({ actualVersion: 2 })
        }
      }
      expect(await store.get(key)).toMatchObject({ version: 2 })
    })

    it('creates only when absent, and treats a tombstone as absent', async () => {
      const key = uniqueKey()
      expect(await store.put(key, plain('a'), { expectedVersion: 'absent' })).toEqual({
        version: 1,
        created: true,
      })
      const failure = await store
        .put(key, plain('b'), { expectedVersion: 'absent' })
        .catch((e) => e)
      expect(failure).toBeInstanceOf(VersionMismatchError)
      expect(failure).toMatchObject({ expectedVersion: 'absent', actualVersion: 1 })
      await store.delete(key)
      expect(await store.put(key, plain('c'), { expectedVersion: 'absent' })).toEqual({
        version: 3,
        created: true,
      })
    })

    it('keeps versions strictly increasing across delete and re-create', async () => {
      const key = uniqueKey()
      const versions: number[] = []
      for (let round = 0; round < 3; round++) {
        versions.push((await store.put(key, plain(`v${round}`))).version)
        versions.push((await store.delete(key)).version)
        const tombstone = await store.get(key)
        expect(tombstone).toMatchObject({ deleted: true, version: versions.at(-1) })
        expect(tombstone?.value).toBeUndefined()
      }
      expect(versions).toEqual([1, 2, 3, 4, 5, 6])
    })

    it('refuses to delete a key with no live value', async () => {
      const key = uniqueKey()
      expect(await store.delete(key).catch((e) => e)).toBeInstanceOf(KeyNotFoundError)
      await store.put(key, plain('a'))
      await store.delete(key)
      const failure = await store.delete(key).catch((e) => e)
      expect(failure).toBeInstanceOf(KeyNotFoundError)
      expect(failure).toMatchObject({ version: 2 })
    })

    it('deletes on the expected version only, and a tombstone matches no version', async () => {
      const key = uniqueKey()
      await store.put(key, plain('a'))
      expect(await store.delete(key, { expectedVersion: 2 }).catch((e) => e)).toBeInstanceOf(
        VersionMismatchError,
      )
      expect(await store.delete(key, { expectedVersion: 1 })).toMatchObject({ version: 2 })
      const failure = await store.put(key, plain('b'), { expectedVersion: 2 }).catch((e) => e)
      expect(failure).toBeInstanceOf(VersionMismatchError)
    })

    it('rejects a write with a stale fence inside the same write and keeps the value', async () => {
      const key = uniqueKey()
      await store.put(key, plain('a'), { fence: 5 })
      const failure = await store.put(key, plain('b'), { fence: 3 }).catch((e) => e)
      expect(failure).toBeInstanceOf(StaleFenceError)
      expect(failure).toMatchObject({ key, fence: 3, recordedFence: 5 })
      expect(await store.delete(key, { fence: 4 }).catch((e) => e)).toBeInstanceOf(StaleFenceError)
      const item = await store.get(key)
      expect(item).toMatchObject({ version: 1, fence: 5 })
      expect(text(item?.value)).toBe('a')
    })

    it('accepts an equal or higher fence and records it; an unfenced write leaves it', async () => {
      const key = uniqueKey()
      await store.put(key, plain('a'), { fence: 5 })
      await store.put(key, plain('b'), { fence: 5 })
      await store.put(key, plain('c'))
      expect(await store.get(key)).toMatchObject({ version: 3, fence: 5 })
      await store.put(key, plain('d'), { fence: 9 })
      await store.delete(key, { fence: 11 })
      expect(await store.get(key)).toMatchObject({ version: 5, fence: 11, deleted: true })
    })

    it('reports a stale fence before a version mismatch when both fail', async () => {
      const key = uniqueKey()
      await store.put(key, plain('a'), { fence: 5 })
      const failure = await store
        .put(key, plain('b'), { fence: 1, expectedVersion: 7 })
        .catch((e) => e)
      expect(failure).toBeInstanceOf(StaleFenceError)
    })

    it('never lets the recorded fence decrease under concurrent writers with different fences', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 2, maxLength: 8 }),
          async (fences) => {
            const key = uniqueKey()
            const outcomes = await Promise.all(
              fences.map((fence) =>
                store.put(key, plain(String(fence)), { fence }).then(
                  (result) => ({ fence, version: result.version }),
                  (error: unknown) => {
                    expect(error).toBeInstanceOf(StaleFenceError)
                    return { fence, version: undefined }
                  },
                ),
              ),
            )
            const accepted = outcomes
              .filter((outcome) => outcome.version !== undefined)
              .sort((a, b) => (a.version ?? 0) - (b.version ?? 0))
            // In the order the store applied them, accepted fences never go down.
            for (let index = 1; index < accepted.length; index++) {
              expect(accepted[index]!.fence).toBeGreaterThanOrEqual(accepted[index - 1]!.fence)
            }
            const item = await store.get(key)
            expect(item?.fence).toBe(Math.max(...fences))
            expect(item?.version).toBe(accepted.length)
            expect(text(item?.value)).toBe(String(accepted.at(-1)?.fence))
          },
        ),
        { numRuns: 8 },
      )
    })

    it('refuses plain writes to a key held by a transaction intent', async () => {
      const key = uniqueKey()
      await store.put(key, plain('a'))
      const intent: Intent = {
        transactionId: `txn-${crypto.randomUUID()}`,
        operation: 'put',
        value: bytes('staged'),
        contentType: 'text/plain',
        baseVersion: 1,
        preparedAtMs: 1,
      }
      await stageIntent(key, intent)
      for (const write of [
        () => store.put(key, plain('b')),
        () => store.put(key, plain('b'), { expectedVersion: 1, fence: 1 }),
        () => store.delete(key),
      ]) {
        const failure = await write().catch((e) => e)
        expect(failure).toBeInstanceOf(KeyInTransactionError)
        expect(failure).toMatchObject({ key, transactionId: intent.transactionId })
      }
      const item = await store.get(key)
      expect(item).toMatchObject({ version: 1, intent: { transactionId: intent.transactionId } })
      expect(text(item?.value)).toBe('a')
      expect(text(item?.intent?.value)).toBe('staged')
    })

    it('applies a coordinator-assigned version only above the replica own version', async () => {
      const key = uniqueKey()
      expect(await store.put(key, plain('a'), { assignedVersion: 4 })).toEqual({
        version: 4,
        created: true,
      })
      const failure = await store.put(key, plain('b'), { assignedVersion: 4 }).catch((e) => e)
      expect(failure).toBeInstanceOf(VersionMismatchError)
      expect(failure).toMatchObject({ actualVersion: 4 })
      expect(await store.delete(key, { assignedVersion: 6 })).toEqual({
        version: 6,
        created: false,
      })
      expect(await store.get(key)).toMatchObject({ version: 6, deleted: true })
    })

    it('reads many keys at once: the copies held (tombstones too), none for keys never written', async () => {
      const keys = Array.from({ length: 130 }, () => uniqueKey())
      for (const key of keys.slice(0, 120)) await store.put(key, plain(key))
      await store.delete(keys[0]!)
      const found = await store.getMany([...keys, keys[1]!])
      expect(found.size).toBe(120)
      expect(found.get(keys[0]!)).toMatchObject({ version: 2, deleted: true })
      expect(text(found.get(keys[119]!)?.value)).toBe(keys[119])
      expect(found.has(keys[120]!)).toBe(false)
      expect((await store.getMany([])).size).toBe(0)
    })
  })
}
