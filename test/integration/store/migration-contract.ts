// The ring migration half of the RegionalStore contract (freeze, copyIn, strip, the gate,
// requireItem, scan), one suite for the DynamoDB adapter and the in-memory double. Each
// case gets a store of its own: a raised gate is table-wide.
import {
  type Intent,
  ItemAbsentError,
  KeyInTransactionError,
  KeyMovedError,
  type RegionalStore,
  StaleRingError,
  StoreError,
} from '@meridian/store'
import { describe, expect, it } from 'vitest'

export interface MigratingStoreUnderTest {
  store: RegionalStore
  stageIntent(storageKey: string, intent: Intent): Promise<void>
}

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (value: Uint8Array | undefined) => new TextDecoder().decode(value)
const plain = (value: string) => ({ value: bytes(value), contentType: 'text/plain' })
const key = () => `default#migration-${crypto.randomUUID()}`

export function migrationContract(name: string, factory: () => Promise<MigratingStoreUnderTest>) {
  describe(`regional store migration contract: ${name}`, () => {
    it('freezes nothing for a key it has no copy of, and writes nothing', async () => {
      const { store } = await factory()
      const absent = key()
      expect(await store.freeze(absent, 'eu-west-1', 2)).toBeUndefined()
      expect(await store.get(absent)).toBeUndefined()
    })

    it('freezes a copy for one region: writes are refused with the region, reads show it', async () => {
      const { store } = await factory()
      const moving = key()
      await store.put(moving, plain('a'), { fence: 3 })
      const frozen = await store.freeze(moving, 'eu-west-1', 2)
      expect(frozen).toMatchObject({ version: 1, movedTo: 'eu-west-1', fence: 3 })
      expect(text(frozen?.value)).toBe('a')
      expect(await store.freeze(moving, 'eu-west-1', 2)).toMatchObject({ movedTo: 'eu-west-1' })
      await expect(store.freeze(moving, 'us-west-2', 2)).rejects.toBeInstanceOf(StoreError)
      await expect(store.put(moving, plain('b'))).rejects.toBeInstanceOf(KeyMovedError)
      await expect(store.delete(moving)).rejects.toMatchObject({
        name: 'KeyMovedError',
        region: 'eu-west-1',
      })
      expect(await store.get(moving)).toMatchObject({ version: 1, movedTo: 'eu-west-1' })
    })

    it('refuses to freeze a key held by a transaction', async () => {
      const { store, stageIntent } = await factory()
      const held = key()
      await store.put(held, plain('a'))
      await stageIntent(held, {
        transactionId: 'txn-1',
        operation: 'put',
        value: bytes('b'),
        contentType: 'text/plain',
        baseVersion: 1,
        preparedAtMs: 1,
      })
      await expect(store.freeze(held, 'eu-west-1', 2)).rejects.toBeInstanceOf(KeyInTransactionError)
      expect((await store.get(held))?.movedTo).toBeUndefined()
    })

    it('refuses to freeze a copy placed at the caller’s ring version or later', async () => {
      const { store } = await factory()
      const placed = key()
      await store.raiseGate(4)
      await store.put(placed, plain('a'), { ringVersion: 4 })
      expect(await store.get(placed)).toMatchObject({ placedAt: 4 })
      await expect(store.freeze(placed, 'eu-west-1', 4)).rejects.toBeInstanceOf(StaleRingError)
      expect(await store.freeze(placed, 'eu-west-1', 5)).toMatchObject({ movedTo: 'eu-west-1' })
    })

    it('copies in unless it holds the key at that version or newer, and takes over a frozen copy', async () => {
      const { store } = await factory()
      const copied = key()
      const item = {
        storageKey: copied,
        version: 4,
        deleted: false,
        value: bytes('four'),
        contentType: 'text/plain',
        fence: 9,
      }
      expect(await store.copyIn(item, 7)).toBe(true)
      expect(await store.get(copied)).toMatchObject({ version: 4, fence: 9, placedAt: 7 })
      expect(await store.copyIn(item, 7)).toBe(false)
      expect(await store.copyIn({ ...item, version: 3, value: bytes('three') }, 7)).toBe(false)
      expect(text((await store.get(copied))?.value)).toBe('four')
      await store.put(copied, plain('five'))
      // Frozen at 5 for another region, then the key comes back at the same version.
      await store.freeze(copied, 'eu-west-1', 8)
      expect(await store.copyIn({ ...item, version: 5, value: bytes('five') }, 9)).toBe(true)
      const back = await store.get(copied)
      expect(back?.movedTo).toBeUndefined()
      expect(back).toMatchObject({ version: 5, placedAt: 9 })
      // A tombstone copies as a tombstone.
      const gone = key()
      await store.copyIn({ storageKey: gone, version: 2, deleted: true }, 7)
      expect(await store.get(gone)).toMatchObject({ version: 2, deleted: true })
    })

    it('strips the value of a frozen copy at its version only', async () => {
      const { store } = await factory()
      const stripped = key()
      await store.put(stripped, plain('a'))
      await store.strip(stripped, 1)
      expect(text((await store.get(stripped))?.value)).toBe('a')
      await store.freeze(stripped, 'eu-west-1', 2)
      await store.strip(stripped, 2)
      expect(text((await store.get(stripped))?.value)).toBe('a')
      await store.strip(stripped, 1)
      const marker = await store.get(stripped)
      expect(marker).toMatchObject({ version: 1, movedTo: 'eu-west-1' })
      expect(marker?.value).toBeUndefined()
    })

    it('drops a frozen copy at its version only, marker and all', async () => {
      const { store } = await factory()
      const moving = key()
      await store.put(moving, plain('a'))
      await store.drop(moving, 1)
      expect(await store.get(moving)).toMatchObject({ version: 1 })
      await store.freeze(moving, 'eu-west-1', 2)
      await store.drop(moving, 2)
      expect(await store.get(moving)).toMatchObject({ movedTo: 'eu-west-1' })
      await store.drop(moving, 1)
      await store.drop(moving, 1)
      expect(await store.get(moving)).toBeUndefined()
    })

    it('gates creates and absent answers to callers on an older ring, and never lowers', async () => {
      const { store } = await factory()
      await store.raiseGate(5)
      await store.raiseGate(3)
      const absent = key()
      await expect(store.get(absent, { ringVersion: 4 })).rejects.toBeInstanceOf(StaleRingError)
      expect(await store.get(absent, { ringVersion: 5 })).toBeUndefined()
      await expect(store.put(absent, plain('a'), { ringVersion: 4 })).rejects.toBeInstanceOf(
        StaleRingError,
      )
      await expect(store.delete(absent, { ringVersion: 4 })).rejects.toBeInstanceOf(StaleRingError)
      await expect(
        store.put(absent, plain('a'), { ringVersion: 4, expectedVersion: 1 }),
      ).rejects.toBeInstanceOf(StaleRingError)
      expect(await store.get(absent)).toBeUndefined()
      expect(await store.put(absent, plain('a'), { ringVersion: 5 })).toEqual({
        version: 1,
        created: true,
      })
      // An existing copy is written by any ring: it is the one live copy.
      expect(await store.put(absent, plain('b'), { ringVersion: 4 })).toMatchObject({ version: 2 })
    })

    it('gates a replicated create (assigned version) like a plain one, at the assigned version', async () => {
      const { store } = await factory()
      await store.raiseGate(5)
      const absent = key()
      await expect(
        store.put(absent, plain('a'), { ringVersion: 4, assignedVersion: 7 }),
      ).rejects.toBeInstanceOf(StaleRingError)
      expect(await store.get(absent)).toBeUndefined()
      expect(await store.put(absent, plain('a'), { ringVersion: 5, assignedVersion: 7 })).toEqual({
        version: 7,
        created: true,
      })
      expect(await store.get(absent)).toMatchObject({ version: 7, placedAt: 5 })
      // Over an existing copy the gate is not asked, as for plain writes.
      expect(
        await store.put(absent, plain('b'), { ringVersion: 4, assignedVersion: 8 }),
      ).toMatchObject({ version: 8 })
    })

    it('refuses a frozen copy to a reader on a ring older than the gate', async () => {
      const { store } = await factory()
      const moving = key()
      await store.put(moving, plain('a'))
      await store.freeze(moving, 'eu-west-1', 4)
      await store.raiseGate(3)
      await expect(store.get(moving, { ringVersion: 2 })).rejects.toBeInstanceOf(StaleRingError)
      expect(await store.get(moving, { ringVersion: 4 })).toMatchObject({ movedTo: 'eu-west-1' })
      expect(await store.get(moving)).toMatchObject({ movedTo: 'eu-west-1' })
      // A live copy is the answer whatever the caller's ring.
      const live = key()
      await store.put(live, plain('b'))
      expect(await store.get(live, { ringVersion: 2 })).toMatchObject({ version: 1 })
    })

    it('never lets a repair replace a frozen copy; a migration copy may', async () => {
      const { store } = await factory()
      const moving = key()
      await store.put(moving, plain('a'))
      const frozen = (await store.freeze(moving, 'eu-west-1', 2))!
      const newer = { ...frozen, version: 5, value: bytes('z'), movedTo: undefined }
      expect(await store.copyIn(newer, 2, { repair: true })).toBe(false)
      expect(await store.get(moving)).toMatchObject({ version: 1, movedTo: 'eu-west-1' })
      // A repair over an older plain copy, or none, writes as a copy does.
      const lagging = key()
      await store.put(lagging, plain('a'))
      const repaired = { storageKey: lagging, version: 3, deleted: false, value: bytes('c') }
      expect(await store.copyIn(repaired, 2, { repair: true })).toBe(true)
      expect(text((await store.get(lagging))?.value)).toBe('c')
      expect(await store.copyIn({ ...repaired, version: 2 }, 2, { repair: true })).toBe(false)
      // Where there is no copy, a repair creates one only behind the gate.
      await store.raiseGate(4)
      const missing = { storageKey: key(), version: 2, deleted: false, value: bytes('m') }
      expect(await store.copyIn(missing, 3, { repair: true })).toBe(false)
      expect(await store.get(missing.storageKey)).toBeUndefined()
      expect(await store.copyIn(missing, 4, { repair: true })).toBe(true)
      expect(await store.get(missing.storageKey)).toMatchObject({ version: 2, placedAt: 4 })
      expect(await store.copyIn(newer, 3)).toBe(true)
      const taken = await store.get(moving)
      expect(taken).toMatchObject({ version: 5 })
      expect(taken?.movedTo).toBeUndefined()
    })

    it('writes only over an existing copy with requireItem', async () => {
      const { store } = await factory()
      const required = key()
      await expect(store.put(required, plain('a'), { requireItem: true })).rejects.toBeInstanceOf(
        ItemAbsentError,
      )
      expect(await store.get(required)).toBeUndefined()
      await store.put(required, plain('a'))
      expect(await store.put(required, plain('b'), { requireItem: true })).toMatchObject({
        version: 2,
      })
    })

    it('hands a batch over all or nothing: freezeAll pins each scanned version', async () => {
      const { store } = await factory()
      const [a, b, c] = [key(), key(), key()]
      await store.put(a, plain('a'))
      await store.put(b, plain('b'))
      await store.put(c, plain('c'))
      const scanned = [(await store.get(a))!, (await store.get(b))!, (await store.get(c))!]
      await store.put(b, plain('b2'))
      // b changed since the scan: nothing is frozen, and b is named as the one refused.
      expect(
        (await store.freezeAll(scanned, 'eu-west-1', 2)).map((item) => item.storageKey),
      ).toEqual([b])
      expect((await store.get(a))?.movedTo).toBeUndefined()
      expect((await store.get(c))?.movedTo).toBeUndefined()
      // The others freeze without it.
      expect(await store.freezeAll([scanned[0]!, scanned[2]!], 'eu-west-1', 2)).toEqual([])
      expect(await store.get(c)).toMatchObject({ version: 1, movedTo: 'eu-west-1' })
      const fresh = [(await store.get(a))!, (await store.get(b))!]
      // a is frozen now: refused as such.
      expect((await store.freezeAll(fresh, 'eu-west-1', 2)).map((item) => item.storageKey)).toEqual(
        [a],
      )
      expect(await store.freezeAll([fresh[1]!], 'eu-west-1', 2)).toEqual([])
      expect(await store.get(b)).toMatchObject({ version: 2, movedTo: 'eu-west-1' })
      await expect(store.put(a, plain('x'))).rejects.toBeInstanceOf(KeyMovedError)
      const frozen = [(await store.get(a))!, (await store.get(b))!, (await store.get(c))!]
      expect(await store.stripAll(frozen)).toBe(true)
      expect((await store.get(a))?.value).toBeUndefined()
      expect((await store.get(b))?.value).toBeUndefined()
      // Stripping again at another version is refused as a whole.
      expect(await store.stripAll([{ ...frozen[0]!, version: 9 }])).toBe(false)
    })

    it('copies a batch in all or nothing', async () => {
      const { store } = await factory()
      const [a, b] = [key(), key()]
      await store.put(b, plain('newer'))
      await store.put(b, plain('newer'))
      const copies = [
        { storageKey: a, version: 1, deleted: false, value: bytes('a'), contentType: 'text/plain' },
        { storageKey: b, version: 1, deleted: false, value: bytes('b'), contentType: 'text/plain' },
      ]
      // b holds version 2 already: the whole batch is refused.
      expect(await store.copyInAll(copies, 3)).toBe(false)
      expect(await store.get(a)).toBeUndefined()
      expect(await store.copyInAll([copies[0]!], 3)).toBe(true)
      expect(await store.get(a)).toMatchObject({ version: 1, placedAt: 3 })
    })

    it('scans every item once across segments, without the gate', async () => {
      const { store } = await factory()
      await store.raiseGate(2)
      const written = new Set(Array.from({ length: 25 }, key))
      for (const storageKey of written) await store.put(storageKey, plain('x'))
      const seen: string[] = []
      for (let segment = 0; segment < 3; segment++) {
        for await (const page of store.scan(segment, 3)) seen.push(...page.map((i) => i.storageKey))
      }
      expect(seen.sort()).toEqual([...written].sort())
    })
  })
}
