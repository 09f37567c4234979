// Lease arithmetic, pure: when a lease counts as expired, how long a waiter sleeps, and
// when a holder must give up. Clocks only decide how fast a crashed holder is replaced;
// safety comes from the fence, which the protected resource checks.

export const lockLimits = {
  leaseMsMin: 100,
  leaseMsMax: 3_600_000,
  waitMsMax: 60_000,
  ownerLengthMax: 128,
  nameLengthMax: 128,
} as const

/** Lock names: no '#', which separates key parts in storage. */
export const lockNamePattern = /^[A-Za-z0-9._:-]{1,128}$/
export const tenantPattern = /^[a-z0-9][a-z0-9-]{0,62}$/

export interface BackoffPolicy {
  /** First retry delay; doubles per attempt up to capMs. */
  baseMs: number
  /**
   * Upper bound of one sleep. Low on purpose: a waiter learns of a release only by trying
   * again, so this caps the hand-off latency after a release.
   */
  capMs: number
}

export const defaultBackoff: BackoffPolicy = { baseMs: 4, capMs: 25 }

/** A waiter takes over only when its own clock is past the lease end plus the skew margin. */
export function leaseExpired(leaseUntilMs: number, nowMs: number, clockSkewMarginMs: number) {
  return nowMs > leaseUntilMs + clockSkewMarginMs
}

/** "Equal jitter": half the exponential step fixed, half random, so waiters spread out. */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number) {
  const step = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 20))
  return step / 2 + (step / 2) * random()
}

/**
 * How long a waiter sleeps before its next attempt: the jittered backoff, cut short when
 * the holder's lease (as the failed write reported it) expires sooner, and never past the
 * caller's deadline.
 */
export function waitDelayMs(input: {
  attempt: number
  nowMs: number
  deadlineMs: number
  holderLeaseUntilMs: number | undefined
  clockSkewMarginMs: number
  policy: BackoffPolicy
  random: () => number
}): number {
  let delay = backoffDelayMs(input.attempt, input.policy, input.random)
  if (input.holderLeaseUntilMs !== undefined) {
    const untilExpiry = input.holderLeaseUntilMs + input.clockSkewMarginMs + 1 - input.nowMs
    delay = Math.min(delay, Math.max(0, untilExpiry))
  }
  return Math.max(0, Math.min(delay, input.deadlineMs - input.nowMs))
}

export interface RenewalTiming {
  /** Period between renewals. */
  renewEveryMs: number
  /** The holder's signal fires this long before its lease end if renewals keep failing. */
  abortLeadMs: number
}

/**
 * Renew at a third of the lease, so two renewals can fail before the abort point; abort a
 * fifth of the lease early, which leaves time for an in-flight renewal's answer and for fn
 * to stop. Waiters add the skew margin on their side, so a holder whose clock is behind
 * by up to the margin still stops before anyone takes over.
 */
export function renewalTiming(leaseMs: number): RenewalTiming {
  return { renewEveryMs: Math.floor(leaseMs / 3), abortLeadMs: Math.floor(leaseMs / 5) }
}

export function assertLockName(name: string): void {
  if (!lockNamePattern.test(name)) throw new RangeError(`invalid lock name ${JSON.stringify(name)}`)
}

export function assertTenant(tenant: string): void {
  if (!tenantPattern.test(tenant)) throw new RangeError(`invalid tenant ${JSON.stringify(tenant)}`)
}
