// A failure detector per region, fed by the outcomes of real calls to its store table, and
// the store decorator that feeds it and routes around what it suspects. Each handler
// instance keeps its own view (no shared state on the request path).
//
// A region is suspected after `failuresToSuspect` calls in a row fail the way a dead or
// overloaded region fails (timeouts, connection errors, throttling, 5xx); an answer that
// is a refusal (a condition failed, a key moved) is a healthy answer. While a region is
// suspected its calls fail at once with RegionUnavailableError (no retry storm, and no
// request waits on it), and a light probe (a read of a key that doesn't exist) runs every
// `probeIntervalMs` in the background: when one succeeds the region is trusted again.
// With the clients' short timeouts (1 s, two attempts) a blackholed region is suspected
// within about two seconds of its first failed call.
import { RegionUnavailableError, StoreError } from './errors'
import type { RegionalStore } from './regional-store'

export interface RegionView {
  region: string
  state: 'trusted' | 'suspected'
  /** When the region entered its state (ISO 8601). */
  since: string
  lastError?: string
  p50Ms: number | null
  p99Ms: number | null
  calls: number
  failures: number
}

export interface FailureDetectorOptions {
  failuresToSuspect?: number
  probeIntervalMs?: number
  /** Latencies kept per region for p50/p99. */
  window?: number
  nowMs?: () => number
  /** Called on every change of state (for metrics and logs). */
  onChange?: (view: RegionView) => void
}

interface RegionState {
  state: 'trusted' | 'suspected'
  sinceMs: number
  consecutiveFailures: number
  lastError?: string
  nextProbeMs: number
  probe?: () => Promise<unknown>
  probing?: ReturnType<typeof setTimeout>
  latencies: number[]
  /** Smoothed latency of successful calls (ms), for ranking replicas; undefined before any. */
  smoothedMs?: number
  calls: number
  failures: number
}

export class FailureDetector {
  private readonly regions = new Map<string, RegionState>()
  private readonly failuresToSuspect: number
  private readonly probeIntervalMs: number
  private readonly window: number
  private readonly nowMs: () => number

  constructor(private readonly options: FailureDetectorOptions = {}) {
    this.failuresToSuspect = options.failuresToSuspect ?? 2
    this.probeIntervalMs = options.probeIntervalMs ?? 1_000
    this.window = options.window ?? 512
    this.nowMs = options.nowMs ?? Date.now
  }

  /** How to probe `region` while it is suspected (a cheap read). */
  watch(region: string, probe: () => Promise<unknown>): void {
    this.stateOf(region).probe = probe
  }

  /** Whether a call may go to `region` now (it is trusted). */
  admit(region: string): boolean {
    return this.stateOf(region).state === 'trusted'
  }

  /** Seconds a refused caller should wait: until the next probe, at least one. */
  retryAfterSeconds(region: string): number {
    const waitMs = this.stateOf(region).nextProbeMs - this.nowMs()
    return Math.max(1, Math.ceil(waitMs / 1000))
  }

  succeeded(region: string, latencyMs: number): void {
    const state = this.stateOf(region)
    state.calls++
    state.latencies.push(latencyMs)
    if (state.latencies.length > this.window) state.latencies.shift()
    state.smoothedMs =
      state.smoothedMs === undefined
        ? latencyMs
        : state.smoothedMs + smoothing * (latencyMs - state.smoothedMs)
    state.consecutiveFailures = 0
    if (state.state === 'suspected') this.change(region, state, 'trusted')
  }

  failed(region: string, error: unknown): void {
    const state = this.stateOf(region)
    state.calls++
    state.failures++
    state.consecutiveFailures++
    state.lastError = describe(error)
    if (state.state === 'trusted' && state.consecutiveFailures >= this.failuresToSuspect) {
      this.change(region, state, 'suspected')
      this.scheduleProbe(region, state)
    }
  }

  /**
   * How costly a call to `region` looks now, for choosing which replicas to read: the
   * smoothed latency of its recent calls; Infinity while suspected; 0 before any call.
   */
  cost(region: string): number {
    const state = this.stateOf(region)
    if (state.state === 'suspected') return Number.POSITIVE_INFINITY
    return state.smoothedMs ?? 0
  }

  /**
   * How long a quorum read waits for an answer before asking one more replica (a hedged
   * read): three times the typical region's smoothed latency (the median over regions, so
   * one slow region does not stretch it), within [hedgeMinMs, hedgeMaxMs].
   */
  hedgeDelayMs(): number {
    const costs = [...this.regions.values()]
      .filter((state) => state.state === 'trusted' && state.smoothedMs !== undefined)
      .map((state) => state.smoothedMs!)
      .sort((a, b) => a - b)
    if (costs.length === 0) return hedgeMaxMs / 10
    const median = costs[Math.floor((costs.length - 1) / 2)]!
    return Math.min(hedgeMaxMs, Math.max(hedgeMinMs, 3 * median))
  }

  private scheduleProbe(region: string, state: RegionState): void {
    if (!state.probe || state.probing) return
    state.nextProbeMs = this.nowMs() + this.probeIntervalMs
    state.probing = setTimeout(async () => {
      const started = performance.now()
      try {
        await state.probe!()
        state.probing = undefined
        this.succeeded(region, performance.now() - started)
      } catch (error) {
        state.probing = undefined
        state.lastError = describe(error)
        if (state.state === 'suspected') this.scheduleProbe(region, state)
      }
    }, this.probeIntervalMs)
    // A probe must not keep a finished process (a test, the local runtime) alive.
    state.probing.unref?.()
  }

  views(): RegionView[] {
    return [...this.regions.keys()].sort().map((region) => this.view(region))
  }

  view(region: string): RegionView {
    const state = this.stateOf(region)
    const sorted = [...state.latencies].sort((a, b) => a - b)
    const at = (p: number) =>
      sorted.length === 0
        ? null
        : Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! * 10) / 10
    return {
      region,
      state: state.state,
      since: new Date(state.sinceMs).toISOString(),
      ...(state.lastError !== undefined && { lastError: state.lastError }),
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      calls: state.calls,
      failures: state.failures,
    }
  }

  private change(region: string, state: RegionState, next: RegionState['state']): void {
    state.state = next
    state.sinceMs = this.nowMs()
    this.options.onChange?.(this.view(region))
  }

  private stateOf(region: string): RegionState {
    let state = this.regions.get(region)
    if (!state) {
      state = {
        state: 'trusted',
        sinceMs: this.nowMs(),
        consecutiveFailures: 0,
        nextProbeMs: 0,
        latencies: [],
        calls: 0,
        failures: 0,
      }
      this.regions.set(region, state)
    }
    return state
  }
}

/**
 * Whether an error says the region is unwell (count it) rather than answering (a store
 * refusal, a validation error from our own request).
 */
export function isRegionFailure(error: unknown): boolean {
  if (error instanceof StoreError) return false
  const name = (error as { name?: string })?.name ?? ''
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode
  if (status !== undefined && status >= 500) return true
  if (/Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded/.test(name)) return true
  if (status !== undefined && status < 500) return false
  // No HTTP answer at all: a timeout, a reset, a refused connection.
  return true
}

/** Weight of the newest latency in a region's smoothed latency. */
const smoothing = 0.1
const hedgeMinMs = 5
const hedgeMaxMs = 1_000

/** A key no tenant can have (storage keys are `tenant#key`): a probe reads it. */
const probeKey = '!probe'

function describe(error: unknown): string {
  const { name, message } = error as { name?: string; message?: string }
  return `${name ?? 'Error'}: ${message ?? String(error)}`.slice(0, 300)
}

/** A regional store whose calls feed `detector` and fail fast while its region is suspected. */
export function detectingStore(
  region: string,
  store: RegionalStore,
  detector: FailureDetector,
): RegionalStore {
  detector.watch(region, () => store.get(probeKey))
  return new Proxy(store, {
    get(target, property, receiver) {
      const member = Reflect.get(target, property, receiver)
      if (typeof member !== 'function') return member
      // A range scan is a migration's business, not a request's: pass it through.
      if (property === 'scan') return member.bind(target)
      return async (...args: unknown[]) => {
        if (!detector.admit(region)) {
          throw new RegionUnavailableError(region, detector.retryAfterSeconds(region))
        }
        const started = performance.now()
        try {
          const result = await member.apply(target, args)
          detector.succeeded(region, performance.now() - started)
          return result
        } catch (error) {
          if (isRegionFailure(error)) detector.failed(region, error)
          else detector.succeeded(region, performance.now() - started)
          throw error
        }
      }
    },
  })
}
