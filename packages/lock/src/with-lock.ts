// withLock: acquire, run fn while renewing in the background, release.
//
// Timeline for a lease of L ms taken at t0 (holder's clock):
//   t0 + L/3, t0 + 2L/3, …  renew (one conditional write on owner AND fence); each success
//                           moves the lease end and the abort point forward.
//   a renewal fails with a transient error (throttling): retry with a short backoff, for
//                           as long as the lease is still valid; one error never ends renewing.
//   a renewal finds the lock taken over or released: abort at once, stop renewing.
//   lease end − L/5        (abort point) no renewal has succeeded in time: abort fn's signal.
//                           Waiters add the skew margin on their side, so fn is told before
//                           anyone else can take the lock.
//   fn settles              stop both loops, await them, release if still ours.
// Nothing is left behind: both loops sleep on one stop signal and end when it fires, and
// every rejection inside them is caught.
import { LockLostError, LockNotHeldError } from './errors'
import { backoffDelayMs, renewalTiming } from './lease'
import type { AcquireOptions, Lease, LockService } from './lock-service'
import { isTransientError } from './transient'

export interface WithLockOptions extends AcquireOptions {
  /** Period between renewals (default leaseMs / 3). */
  renewEveryMs?: number
  /** How long before the lease end the signal fires without a renewal (default leaseMs / 5). */
  abortLeadMs?: number
}

export interface LockContext {
  /** Fires (reason: LockLostError) when the lease is lost or can't be renewed in time. */
  signal: AbortSignal
  /** The fencing token: pass it with every write to the protected resource. */
  fence: number
  lease: () => Lease
}

export async function withLock<T>(
  service: LockService,
  tenant: string,
  name: string,
  fn: (context: LockContext) => Promise<T>,
  options: WithLockOptions,
): Promise<T> {
  const owner = options.owner ?? crypto.randomUUID()
  let lease = await service.acquire(tenant, name, { ...options, owner })
  const timing = renewalTiming(options.leaseMs)
  const renewEveryMs = options.renewEveryMs ?? timing.renewEveryMs
  const abortLeadMs = options.abortLeadMs ?? timing.abortLeadMs
  const { clock } = service
  const holder = new AbortController()
  const stop = new AbortController()
  let lost = false
  const abort = (message: string, cause?: unknown) => {
    lost = true
    if (!holder.signal.aborted) holder.abort(new LockLostError(message, lease.fence, { cause }))
    stop.abort()
  }
  const abortAtMs = () => lease.leaseUntilMs - abortLeadMs

  const watchDeadline = async () => {
    while (!stop.signal.aborted) {
      const remainingMs = abortAtMs() - clock.nowMs()
      if (remainingMs <= 0) return abort(`lease of ${name} could not be renewed in time`)
      await clock.sleep(remainingMs, stop.signal)
    }
  }

  const renewLoop = async () => {
    let nextMs = renewEveryMs
    let failures = 0
    while (!stop.signal.aborted) {
      await clock.sleep(nextMs, stop.signal)
      if (stop.signal.aborted) return
      try {
        lease = await service.renew(tenant, name, {
          owner,
          fence: lease.fence,
          leaseMs: options.leaseMs,
        })
        failures = 0
        nextMs = renewEveryMs
      } catch (error) {
        if (error instanceof LockNotHeldError) return abort(`lease of ${name} was lost`, error)
        // Transient or unknown: keep trying while the lease is valid; the deadline
        // watcher aborts fn if none succeeds in time.
        failures++
        nextMs = Math.min(renewEveryMs, backoffDelayMs(failures, service.backoff, service.random))
        if (!isTransientError(error)) nextMs = renewEveryMs / 2
      }
    }
  }

  const loops = Promise.all([watchDeadline(), renewLoop()])
  let outcome: { ok: true; value: T } | { ok: false; error: unknown }
  try {
    outcome = {
      ok: true,
      value: await fn({ signal: holder.signal, fence: lease.fence, lease: () => lease }),
    }
  } catch (error) {
    outcome = { ok: false, error }
  }
  stop.abort()
  await loops
  if (!lost) await releaseQuietly(service, tenant, name, owner, lease.fence)
  if (!outcome.ok) throw outcome.error
  return outcome.value
}

async function releaseQuietly(
  service: LockService,
  tenant: string,
  name: string,
  owner: string,
  fence: number,
) {
  try {
    await service.release(tenant, name, { owner, fence })
  } catch (error) {
    // The lease may have lapsed unnoticed, or the table is throttling: the fence already
    // protects the resource and the lock frees itself at lease end. Nothing to undo.
    if (!(error instanceof LockNotHeldError) && !isTransientError(error)) throw error
  }
}
