// A fixed set of worker threads that run handler invocations, at most one per thread at
// a time, so batch work spreads over every core the way Lambda spreads it over instances.
// An invocation that outlives its timeout is failed and its thread terminated and
// replaced, as Lambda discards a timed-out instance.
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { InvocationOutcome, InvocationRequest } from './invoker'

export type { InvocationOutcome }

export interface InvocationOptions {
  functionName: string
  timeoutMs: number
}

interface PendingInvocation {
  request: InvocationRequest
  resolve: (outcome: InvocationOutcome) => void
}

interface Slot {
  worker: Worker
  current?: { pending: PendingInvocation; timer: NodeJS.Timeout }
}

export interface WorkerPoolOptions {
  /** Directory that `functions/…` handler paths are relative to. */
  rootDirectory: string
  /** Threads; defaults to the number of cores. */
  size?: number
}

export class WorkerPool {
  readonly size: number
  private readonly slots: Slot[] = []
  private readonly waiting: PendingInvocation[] = []
  private nextId = 1
  private closed = false

  constructor(private readonly options: WorkerPoolOptions) {
    this.size = Math.max(1, options.size ?? availableParallelism())
    for (let index = 0; index < this.size; index++) this.slots.push(this.spawnSlot())
  }

  invoke(handler: string, event: unknown, options: InvocationOptions): Promise<InvocationOutcome> {
    if (this.closed) return Promise.reject(new Error('the worker pool is closed'))
    return new Promise((resolve) => {
      const request = { id: this.nextId++, handler, event, ...options }
      this.waiting.push({ request, resolve })
      this.dispatch()
    })
  }

  async close(): Promise<void> {
    this.closed = true
    for (const pending of this.waiting.splice(0)) {
      pending.resolve(failure('ShutdownError', 'the local runtime is shutting down'))
    }
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.current) {
          clearTimeout(slot.current.timer)
          slot.current.pending.resolve(
            failure('ShutdownError', 'the local runtime is shutting down'),
          )
          slot.current = undefined
        }
        await slot.worker.terminate()
      }),
    )
  }

  private spawnSlot(): Slot {
    const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
      workerData: { rootDirectory: this.options.rootDirectory },
    })
    const slot: Slot = { worker }
    worker.on('message', (message: { id: number; outcome: InvocationOutcome }) => {
      if (slot.current?.pending.request.id !== message.id) return
      this.finish(slot, message.outcome)
    })
    worker.on('error', (error) => this.retire(slot, failure(error.name, error.message)))
    worker.on('exit', (code) => {
      this.retire(slot, failure('ExitError', `the instance exited with code ${code}`))
    })
    return slot
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.current) continue
      const pending = this.waiting.shift()
      if (!pending) return
      const timer = setTimeout(() => {
        const seconds = (pending.request.timeoutMs / 1000).toFixed(2)
        this.retire(slot, failure('TimeoutError', `Task timed out after ${seconds} seconds`))
      }, pending.request.timeoutMs)
      slot.current = { pending, timer }
      slot.worker.postMessage(pending.request)
    }
  }

  private finish(slot: Slot, outcome: InvocationOutcome): void {
    const current = slot.current
    if (!current) return
    clearTimeout(current.timer)
    slot.current = undefined
    current.pending.resolve(outcome)
    if (!this.closed) this.dispatch()
  }

  /** Swaps a broken or timed-out thread for a fresh one, then fails its invocation. */
  private retire(slot: Slot, outcome: InvocationOutcome): void {
    const index = this.slots.indexOf(slot)
    if (index < 0 || this.closed) return
    this.slots[index] = this.spawnSlot()
    slot.worker.removeAllListeners()
    void slot.worker.terminate()
    const current = slot.current
    slot.current = undefined
    if (current) {
      clearTimeout(current.timer)
      current.pending.resolve(outcome)
    }
    this.dispatch()
  }
}

function failure(name: string, message: string): InvocationOutcome {
  return { ok: false, error: { name, message } }
}
