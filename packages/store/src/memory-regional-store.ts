// An in-memory regional store for deterministic simulation (locks, transactions, routing)
// where running DynamoDB would be too slow for thousands of interleavings. It keeps exactly
// the DynamoDB adapter's semantics, checked by the same contract suite
// (test/integration/store/store-contract.ts): each operation is atomic, conditions are
// evaluated in the same order of precedence, values are copied in and out.
import {
  KeyInTransactionError,
  KeyNotFoundError,
  StaleFenceError,
  VersionMismatchError,
} from './errors'
import type { Intent } from './item-format'
import type {
  PutValue,
  RegionalStore,
  StoredItem,
  WriteOptions,
  WriteResult,
} from './regional-store'

export class MemoryRegionalStore implements RegionalStore {
  private readonly items = new Map<string, StoredItem>()
  private readonly nowMs: () => number

  constructor(options: { nowMs?: () => number } = {}) {
    this.nowMs = options.nowMs ?? Date.now
  }

  async get(storageKey: string): Promise<StoredItem | undefined> {
    await yieldTurn()
    const item = this.items.get(storageKey)
    return item && copyItem(item)
  }

  async put(storageKey: string, value: PutValue, options: WriteOptions = {}): Promise<WriteResult> {
    await yieldTurn()
    const current = this.items.get(storageKey)
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
    await yieldTurn()
    const current = this.items.get(storageKey)
    check('delete', storageKey, options, current)
    const next: StoredItem = { ...withoutValue(current, storageKey), deleted: true }
    return this.apply(storageKey, options, current, next, false)
  }

  /** Stages a transaction intent as the transactions package would (simulation only). */
  async stageIntent(storageKey: string, intent: Intent): Promise<void> {
    await yieldTurn()
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
  return base
}

function copyItem(item: StoredItem): StoredItem {
  const copy: StoredItem = { ...item }
  if (item.value) copy.value = item.value.slice()
  if (item.intent) copy.intent = { ...item.intent }
  return copy
}

// Lets other simulated calls interleave between operations, as they would over the network.
function yieldTurn(): Promise<void> {
  return Promise.resolve()
}
