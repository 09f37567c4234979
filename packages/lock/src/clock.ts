// The Clock port: wall-clock time and sleeping. Production uses the system clock; the
// simulation and tests drive a fake one, so lease arithmetic and waiting are deterministic.

export interface Clock {
  /** Wall-clock milliseconds since the epoch (may be skewed between processes). */
  nowMs(): number
  /** Resolves after `ms`, or early (without rejecting) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve()
      const done = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, Math.max(0, ms))
      signal?.addEventListener('abort', done, { once: true })
    })
  },
}
