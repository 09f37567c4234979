// An in-memory LockTable with the same conditions as the DynamoDB adapter. It exists for
// the deterministic simulation only; the port's contract suite runs against it AND
// DynamoDB Local, so it cannot drift from the engine. Every method copies records in and
// out, so no caller can mutate table state by reference.
import type { GrantInput, LockKey, LockRecord, LockTable, LockWriteResult } from './lock-table'

function keyOf(key: LockKey): string {
  return `${key.tenant}#${key.name}`
}

function copy(record: LockRecord | undefined): LockRecord | undefined {
  return record && { ...record }
}

export class MemoryLockTable implements LockTable {
  private readonly locks = new Map<string, LockRecord>()
  private readonly floors = new Map<string, number>()

  async acquire(key: LockKey, grant: GrantInput): Promise<LockWriteResult> {
    const current = this.locks.get(keyOf(key))
    const free = current !== undefined && current.owner === undefined
    const expired =
      current?.leaseUntilMs !== undefined && current.leaseUntilMs < grant.expiredBeforeMs
    if (!current || !(free || expired)) return { ok: false, current: copy(current) }
    const record: LockRecord = {
      fence: current.fence + 1,
      owner: grant.owner,
      leaseUntilMs: grant.leaseUntilMs,
      updatedAtMs: grant.nowMs,
    }
    this.locks.set(keyOf(key), record)
    return { ok: true, record: { ...record } }
  }

  async create(key: LockKey, grant: GrantInput & { fence: number }): Promise<LockWriteResult> {
    const current = this.locks.get(keyOf(key))
    if (current) return { ok: false, current: copy(current) }
    const record: LockRecord = {
      fence: grant.fence,
      owner: grant.owner,
      leaseUntilMs: grant.leaseUntilMs,
      updatedAtMs: grant.nowMs,
    }
    this.locks.set(keyOf(key), record)
    return { ok: true, record: { ...record } }
  }

  async renew(
    key: LockKey,
    input: { owner: string; fence: number; leaseUntilMs: number; nowMs: number },
  ): Promise<LockWriteResult> {
    const current = this.locks.get(keyOf(key))
    if (!current || current.owner !== input.owner || current.fence !== input.fence)
      return { ok: false, current: copy(current) }
    const record = { ...current, leaseUntilMs: input.leaseUntilMs, updatedAtMs: input.nowMs }
    this.locks.set(keyOf(key), record)
    return { ok: true, record: { ...record } }
  }

  async release(
    key: LockKey,
    input: { owner: string; fence: number; nowMs: number },
  ): Promise<LockWriteResult> {
    const current = this.locks.get(keyOf(key))
    if (!current || current.owner !== input.owner || current.fence !== input.fence)
      return { ok: false, current: copy(current) }
    const record: LockRecord = { fence: current.fence, updatedAtMs: input.nowMs }
    this.locks.set(keyOf(key), record)
    return { ok: true, record: { ...record } }
  }

  async read(key: LockKey): Promise<LockRecord | undefined> {
    return copy(this.locks.get(keyOf(key)))
  }

  async readFenceFloor(tenant: string): Promise<number> {
    return this.floors.get(tenant) ?? 0
  }

  async removeIdle(
    key: LockKey,
    input: { fence: number; idleBeforeMs: number },
  ): Promise<LockWriteResult> {
    const current = this.locks.get(keyOf(key))
    const idle =
      current !== undefined &&
      current.fence === input.fence &&
      current.updatedAtMs < input.idleBeforeMs &&
      (current.owner === undefined ||
        (current.leaseUntilMs !== undefined && current.leaseUntilMs < input.idleBeforeMs))
    if (!current || !idle) return { ok: false, current: copy(current) }
    this.locks.delete(keyOf(key))
    this.floors.set(key.tenant, Math.max(this.floors.get(key.tenant) ?? 0, current.fence))
    return { ok: true, record: { fence: current.fence, updatedAtMs: input.idleBeforeMs } }
  }
}
