// A deterministic world for simulating the lease protocol: one seeded random source, a
// global fake time with per-client clock offsets, a scheduler that delivers table calls
// in a random order (each one a pending operation that may be throttled, applied with its
// answer lost, or delayed behind timers), client crashes, and a fenced register as the
// protected resource. Same seed, same run: a failure replays exactly.
import { seededRandom } from '@meridian/seeded-random'
import type { Clock } from '../clock'
import type { LockKey, LockRecord, LockTable, LockWriteResult } from '../lock-table'
import { MemoryLockTable } from '../memory-lock-table'
import type { RegisterWrite } from './fence-checker'

export interface Faults {
  throttleRate: number
  lostAnswerRate: number
}

interface PendingOperation {
  clientId: number
  faultable: boolean
  apply: () => Promise<unknown>
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

interface Timer {
  atMs: number
  sequence: number
  clientId: number
  resolve: () => void
}

export class ThrottledError extends Error {
  override name = 'ProvisionedThroughputExceededException'
}

export class LostAnswerError extends Error {
  override name = 'TimeoutError'
}

const microtaskTurns = 8

export class SimulatedWorld {
  readonly random: () => number
  timeMs = 1_000_000
  private pending: PendingOperation[] = []
  private timers: Timer[] = []
  private sequence = 0
  readonly crashed = new Set<number>()
  /** Faults that actually fired, so a test can tell a run with faults from one without. */
  readonly faultsInjected = { throttled: 0, answersLost: 0 }

  constructor(
    seed: number,
    readonly faults: Faults,
  ) {
    this.random = seededRandom(seed)
  }

  clock(clientId: number, offsetMs: number): Clock {
    return {
      nowMs: () => this.timeMs + offsetMs,
      sleep: (ms, signal) =>
        new Promise<void>((resolve) => {
          if (signal?.aborted) return resolve()
          const timer: Timer = {
            atMs: this.timeMs + Math.max(0, ms),
            sequence: this.sequence++,
            clientId,
            resolve: () => {
              signal?.removeEventListener('abort', onAbort)
              resolve()
            },
          }
          const onAbort = () => {
            this.timers = this.timers.filter((candidate) => candidate !== timer)
            resolve()
          }
          signal?.addEventListener('abort', onAbort, { once: true })
          this.timers.push(timer)
        }),
    }
  }

  /** Queues an operation; the scheduler decides when it applies and whether its answer arrives. */
  call<T>(clientId: number, faultable: boolean, apply: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({
        clientId,
        faultable,
        apply,
        resolve: resolve as (value: unknown) => void,
        reject,
      })
    })
  }

  /** Runs until nothing can happen or stepsMax steps; returns the steps taken. */
  async run(stepsMax: number, crashAt?: { clientId: number; step: number }): Promise<number> {
    let step = 0
    for (; step < stepsMax; step++) {
      if (crashAt && step === crashAt.step) this.crashed.add(crashAt.clientId)
      // Let continuations of the previous step register their next calls and timers: a
      // bounded run of microtask turns, and a full drain before concluding nothing is left.
      for (let turn = 0; turn < microtaskTurns; turn++) await Promise.resolve()
      if (this.pending.length === 0 && this.timers.length === 0)
        await new Promise((resolve) => setImmediate(resolve))
      const runOperation =
        this.pending.length > 0 && (this.timers.length === 0 || this.random() < 0.85)
      if (runOperation) await this.runOperation()
      else if (this.timers.length > 0) this.fireEarliestTimer()
      else break
    }
    return step
  }

  private async runOperation() {
    const index = Math.floor(this.random() * this.pending.length)
    const [operation] = this.pending.splice(index, 1)
    if (!operation || this.crashed.has(operation.clientId)) return
    const roll = this.random()
    if (operation.faultable && roll < this.faults.throttleRate) {
      this.faultsInjected.throttled++
      return operation.reject(new ThrottledError('throttled (simulated)'))
    }
    const result = await operation.apply()
    if (operation.faultable && roll < this.faults.throttleRate + this.faults.lostAnswerRate) {
      this.faultsInjected.answersLost++
      return operation.reject(new LostAnswerError('answer lost (simulated)'))
    }
    operation.resolve(result)
  }

  private fireEarliestTimer() {
    let earliest = 0
    for (let index = 1; index < this.timers.length; index++) {
      const a = this.timers[index]!
      const b = this.timers[earliest]!
      if (a.atMs < b.atMs || (a.atMs === b.atMs && a.sequence < b.sequence)) earliest = index
    }
    const [timer] = this.timers.splice(earliest, 1)
    if (!timer) return
    this.timeMs = Math.max(this.timeMs, timer.atMs)
    if (!this.crashed.has(timer.clientId)) timer.resolve()
  }
}

export interface GrantEvent {
  fence: number
  owner: string
}

export interface HolderEvent {
  kind: 'renew' | 'release'
  fence: number
  ok: boolean
  latestGrantedFence: number
}

/**
 * The in-memory table, with a log of what it applied: every grant (fence, owner) and
 * every renew/release with the fence of the latest grant at that moment. A grant made
 * while the previous grantee had not released is a takeover.
 */
export class RecordingLockTable implements LockTable {
  readonly inner = new MemoryLockTable()
  readonly grants: GrantEvent[] = []
  readonly holderEvents: HolderEvent[] = []
  private readonly released = new Set<number>()
  takeovers = 0

  latestFence() {
    return this.grants.at(-1)?.fence ?? 0
  }

  private recordGrant(result: LockWriteResult) {
    if (!result.ok || !result.record.owner) return result
    const previous = this.grants.at(-1)
    if (previous && !this.released.has(previous.fence)) this.takeovers++
    this.grants.push({ fence: result.record.fence, owner: result.record.owner })
    return result
  }

  async acquire(...args: Parameters<LockTable['acquire']>) {
    return this.recordGrant(await this.inner.acquire(...args))
  }
  async create(...args: Parameters<LockTable['create']>) {
    return this.recordGrant(await this.inner.create(...args))
  }
  async renew(...args: Parameters<LockTable['renew']>) {
    const result = await this.inner.renew(...args)
    const latestGrantedFence = this.latestFence()
    this.holderEvents.push({
      kind: 'renew',
      fence: args[1].fence,
      ok: result.ok,
      latestGrantedFence,
    })
    return result
  }
  async release(...args: Parameters<LockTable['release']>) {
    const result = await this.inner.release(...args)
    if (result.ok) this.released.add(args[1].fence)
    const latestGrantedFence = this.latestFence()
    this.holderEvents.push({
      kind: 'release',
      fence: args[1].fence,
      ok: result.ok,
      latestGrantedFence,
    })
    return result
  }
  read(key: LockKey): Promise<LockRecord | undefined> {
    return this.inner.read(key)
  }
  readFenceFloor(tenant: string) {
    return this.inner.readFenceFloor(tenant)
  }
  removeIdle(...args: Parameters<LockTable['removeIdle']>) {
    return this.inner.removeIdle(...args)
  }
}

/** One client's view of the table: every call goes through the world's scheduler. */
export function scheduledTable(
  world: SimulatedWorld,
  clientId: number,
  table: LockTable,
): LockTable {
  return {
    acquire: (...args) => world.call(clientId, true, () => table.acquire(...args)),
    create: (...args) => world.call(clientId, true, () => table.create(...args)),
    renew: (...args) => world.call(clientId, true, () => table.renew(...args)),
    release: (...args) => world.call(clientId, true, () => table.release(...args)),
    read: (...args) => world.call(clientId, true, () => table.read(...args)),
    readFenceFloor: (...args) => world.call(clientId, true, () => table.readFenceFloor(...args)),
    removeIdle: (...args) => world.call(clientId, true, () => table.removeIdle(...args)),
  }
}

/**
 * The protected resource: a register that accepts a write only if its fence is at least
 * the highest fence it has accepted, in the same atomic step (the store's rule). Its
 * history keeps rejected writes too, each with what the lock had granted by then, so the
 * lock (not this double) can be checked against it.
 */
export class FencedRegister {
  recordedFence = 0
  readonly history: RegisterWrite[] = []

  write(write: Omit<RegisterWrite, 'accepted'>): boolean {
    const accepted = write.fence >= this.recordedFence
    if (accepted) this.recordedFence = write.fence
    this.history.push({ ...write, accepted })
    return accepted
  }
}
