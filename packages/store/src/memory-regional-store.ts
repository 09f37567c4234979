// An in-memory regional store for deterministic simulation (locks, transactions, routing)
// where running DynamoDB would be too slow for thousands of interleavings. It keeps exactly
// the DynamoDB adapter's semantics, checked by the same contract suite
// (test/integration/store/store-contract.ts): each operation is atomic, conditions are
// evaluated in the same order of precedence, values are copied in and out.
import {
  ItemAbsentError,
  KeyInTransactionError,
  KeyMovedError,
  KeyNotFoundError,
  StaleFenceError,
  StaleRingError,
  StoreError,
  VersionMismatchError,
} from './errors'
import type { Intent } from './item-format'
import type {
  CopyOptions,
  PutValue,
  ReadOptions,
  RegionalStore,
  StoredItem,
  WriteOptions,
  WriteResult,
} from './regional-store'

export class MemoryRegionalStore implements RegionalStore {
  private readonly items = new Map<string, StoredItem>()
  private readonly nowMs: () => number
  private gate = 0

  private readonly pause: () => Promise<void>

  /** `pause` runs before every operation: a simulation's scheduler parks calls there. */
  constructor(options: { nowMs?: () => number; pause?: () => Promise<void> } = {}) {
    this.nowMs = options.nowMs ?? Date.now
    this.pause = options.pause ?? yieldTurn
  }

  async get(storageKey: string, options: ReadOptions = {}): Promise<StoredItem | undefined> {
    await this.pause()
    const item = this.items.get(storageKey)
    if (!item || item.movedTo !== undefined) this.checkGate(storageKey, options.ringVersion)
    return item && copyItem(item)
  }

  /** The item as stored, at once and without a pause (for a simulation's final checks). */
  peek(storageKey: string): StoredItem | undefined {
    const item = this.items.get(storageKey)
    return item && copyItem(item)
  }

  async gateVersion(): Promise<number> {
    return this.gate
  }

  async raiseGate(ringVersion: number): Promise<void> {
    await this.pause()
    this.gate = Math.max(this.gate, ringVersion)
  }

  async freeze(
    storageKey: string,
    region: string,
    ringVersion: number,
  ): Promise<StoredItem | undefined> {
    await this.pause()
    const current = this.items.get(storageKey)
    if (!current || current.version === 0) {
      if (current?.intent) throw new KeyInTransactionError(storageKey, current.intent.transactionId)
      return undefined
    }
    if (current.intent) throw new KeyInTransactionError(storageKey, current.intent.transactionId)
    if (current.placedAt !== undefined && current.placedAt >= ringVersion) {
      throw new StaleRingError(storageKey, ringVersion, current.placedAt)
    }
    if (current.movedTo !== undefined && current.movedTo !== region) {
      throw new StoreError(
        `${JSON.stringify(storageKey)} is frozen for ${current.movedTo}, not ${region}`,
      )
    }
    current.movedTo = region
    return copyItem(current)
  }

  async copyIn(item: StoredItem, ringVersion: number, options: CopyOptions = {}): Promise<boolean> {
    await this.pause()
    const current = this.items.get(item.storageKey)
    if (options.repair) {
      // Over an older plain copy only; where there is none, only behind the gate.
      const noCopy = !current || (current.version === 0 && !current.intent)
      const takes = noCopy
        ? this.gate <= ringVersion
        : !current.intent && current.movedTo === undefined && current.version < item.version
      if (!takes) return false
    }
    const takes =
      !current?.intent &&
      (!current ||
        current.version === 0 ||
        current.version < item.version ||
        (current.version === item.version && current.movedTo !== undefined))
    if (!takes) {
      if (current && !current.movedTo && current.version >= item.version) return false
      throw new StoreError(
        `copy of ${JSON.stringify(item.storageKey)} at version ${item.version} refused`,
      )
    }
    const { movedTo: _movedTo, intent: _intent, ...copied } = copyItem(item)
    this.items.set(item.storageKey, { ...copied, placedAt: ringVersion })
    return true
  }

  async drop(storageKey: string, version: number): Promise<void> {
    await this.pause()
    const current = this.items.get(storageKey)
    if (current?.movedTo !== undefined && current.version === version) this.items.delete(storageKey)
  }

  async strip(storageKey: string, version: number): Promise<void> {
    await this.pause()
    const current = this.items.get(storageKey)
    if (!current?.movedTo || current.version !== version) return
    delete current.value
    delete current.contentType
  }

  async freezeAll(
    items: readonly StoredItem[],
    region: string,
    ringVersion: number,
  ): Promise<StoredItem[]> {
    await this.pause()
    const refused = items.filter((item) => {
      const current = this.items.get(item.storageKey)
      return !(
        current !== undefined &&
        current.version === item.version &&
        !current.intent &&
        current.movedTo === undefined &&
        (current.placedAt === undefined || current.placedAt < ringVersion)
      )
    })
    if (refused.length > 0) return refused
    for (const item of items) this.items.get(item.storageKey)!.movedTo = region
    return []
  }

  async copyInAll(items: readonly StoredItem[], ringVersion: number): Promise<boolean> {
    await this.pause()
    const all = items.every((item) => {
      const current = this.items.get(item.storageKey)
      return (
        !current?.intent &&
        (!current ||
          current.version === 0 ||
          current.version < item.version ||
          (current.version === item.version && current.movedTo !== undefined))
      )
    })
    if (!all) return false
    for (const item of items) {
      const { movedTo: _movedTo, intent: _intent, ...copied } = copyItem(item)
      this.items.set(item.storageKey, { ...copied, placedAt: ringVersion })
    }
    return true
  }

  async stripAll(items: readonly StoredItem[]): Promise<boolean> {
    await this.pause()
    const all = items.every((item) => {
      const current = this.items.get(item.storageKey)
      return current?.movedTo !== undefined && current.version === item.version
    })
    if (!all) return false
    for (const item of items) {
      const current = this.items.get(item.storageKey)!
      delete current.value
      delete current.contentType
    }
    return true
  }

  async getMany(storageKeys: readonly string[]): Promise<Map<string, StoredItem>> {
    await this.pause()
    const found = new Map<string, StoredItem>()
    for (const key of storageKeys) {
      const item = this.items.get(key)
      if (item) found.set(key, copyItem(item))
    }
    return found
  }

  async *scan(segment: number, totalSegments: number): AsyncIterable<StoredItem[]> {
    await this.pause()
    const keys = [...this.items.keys()].filter((key) => segmentOf(key, totalSegments) === segment)
    yield keys.flatMap((key) => {
      const item = this.items.get(key)
      return item ? [copyItem(item)] : []
    })
  }

  private checkGate(storageKey: string, ringVersion: number | undefined): void {
    if (ringVersion !== undefined && this.gate > ringVersion) {
      throw new StaleRingError(storageKey, ringVersion, this.gate)
    }
  }

  async put(storageKey: string, value: PutValue, options: WriteOptions = {}): Promise<WriteResult> {
    await this.pause()
    const current = this.items.get(storageKey)
    this.checkPlacement(storageKey, options, current, true)
    check('put', storageKey, options, current)
    const next: StoredItem = {
      ...withoutValue(current, storageKey),
      deleted: false,
      value: value.value.slice(),
      contentType: value.contentType,
    }
    return this.apply(storageKey, options, current, next, true)
  }

  async delete(storageKey: string, options: WriteOptions = {}): Promise<WriteResult> {
    if (options.expectedVersion === 'absent') {
      throw new RangeError('a delete cannot expect the key to be absent')
    }
    await this.pause()
    const current = this.items.get(storageKey)
    this.checkPlacement(storageKey, options, current, false)
    check('delete', storageKey, options, current)
    const next: StoredItem = { ...withoutValue(current, storageKey), deleted: true }
    return this.apply(storageKey, options, current, next, false)
  }

  /** Moved copies refuse writes; a key with no copy obeys requireItem and the gate. */
  private checkPlacement(
    storageKey: string,
    options: WriteOptions,
    current: StoredItem | undefined,
    isPut: boolean,
  ): void {
    if (current?.movedTo) throw new KeyMovedError(storageKey, current.movedTo)
    if (current && (current.version > 0 || current.intent)) return
    if (options.requireItem) throw new ItemAbsentError(storageKey)
    const mayCreate =
      isPut && (options.expectedVersion === undefined || options.expectedVersion === 'absent')
    // A create, or an answer that rests on absence (not found, version mismatch).
    if (mayCreate || options.expectedVersion !== undefined || !isPut)
      this.checkGate(storageKey, options.ringVersion)
  }

  /** Stages a transaction intent as the transactions package would (simulation only). */
  async stageIntent(storageKey: string, intent: Intent): Promise<void> {
    await this.pause()
    const current = this.items.get(storageKey)
    if (current?.intent) throw new KeyInTransactionError(storageKey, current.intent.transactionId)
    // Like DynamoDB, staging on a key never written makes an item with no version and no value.
    const base = current ?? { storageKey, version: 0, deleted: false }
    this.items.set(storageKey, { ...base, intent: { ...intent } })
  }

  private apply(
    storageKey: string,
    options: WriteOptions,
    current: StoredItem | undefined,
    next: StoredItem,
    isPut: boolean,
  ): WriteResult {
    next.version = options.assignedVersion ?? (current?.version ?? 0) + 1
    next.updatedAtMs = this.nowMs()
    if (options.fence !== undefined) next.fence = options.fence
    const creates = !current || (current.version === 0 && !current.intent)
    if (creates && options.ringVersion !== undefined) next.placedAt = options.ringVersion
    this.items.set(storageKey, next)
    return { version: next.version, created: isPut && !isLive(current) }
  }
}

function check(
  operation: 'put' | 'delete',
  storageKey: string,
  options: WriteOptions,
  current: StoredItem | undefined,
): void {
  if (current?.intent) throw new KeyInTransactionError(storageKey, current.intent.transactionId)
  if (
    options.fence !== undefined &&
    current?.fence !== undefined &&
    options.fence < current.fence
  ) {
    throw new StaleFenceError(storageKey, options.fence, current.fence)
  }
  if (
    options.assignedVersion !== undefined &&
    current &&
    current.version >= options.assignedVersion
  ) {
    throw new VersionMismatchError(storageKey, options.assignedVersion - 1, current.version)
  }
  const expected = options.expectedVersion
  if (expected === 'absent' && isLive(current)) {
    throw new VersionMismatchError(storageKey, expected, current?.version)
  }
  if (typeof expected === 'number' && (!isLive(current) || current?.version !== expected)) {
    throw new VersionMismatchError(storageKey, expected, current?.version)
  }
  if (operation === 'delete' && expected === undefined && !isLive(current)) {
    throw new KeyNotFoundError(storageKey, current?.version)
  }
}

function isLive(item: StoredItem | undefined): boolean {
  return item !== undefined && !item.deleted && item.version > 0
}

function withoutValue(current: StoredItem | undefined, storageKey: string): StoredItem {
  const base: StoredItem = { storageKey, version: current?.version ?? 0, deleted: false }
  if (current?.fence !== undefined) base.fence = current.fence
  if (current?.placedAt !== undefined) base.placedAt = current.placedAt
  return base
}

function copyItem(item: StoredItem): StoredItem {
  // Carries movedTo along with the rest.
  const copy: StoredItem = { ...item }
  if (item.value) copy.value = item.value.slice()
  if (item.intent) copy.intent = { ...item.intent }
  return copy
}

// Lets other simulated calls interleave between operations, as they would over the network.
function yieldTurn(): Promise<void> {
  return Promise.resolve()
}

/** A stable split of keys into scan segments (DynamoDB splits by its own hash). */
function segmentOf(key: string, totalSegments: number): number {
  let hash = 0x811c9dc5
  for (let index = 0; index < key.length; index++) {
    hash = Math.imul(hash ^ key.charCodeAt(index), 0x01000193) >>> 0
  }
  return hash % totalSegments
}
