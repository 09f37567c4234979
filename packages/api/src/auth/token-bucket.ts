// A token bucket for one instance: `ratePerSecond` tokens a second, holding at most one
// second's worth, so a burst after a quiet spell is bounded too.
export class TokenBucket {
  private tokens: number
  private refilledAtMs: number

  constructor(
    private readonly ratePerSecond: number,
    private readonly nowMs: () => number,
  ) {
    this.tokens = ratePerSecond
    this.refilledAtMs = nowMs()
  }

  tryTake(): boolean {
    const now = this.nowMs()
    const refill = ((now - this.refilledAtMs) / 1000) * this.ratePerSecond
    this.tokens = Math.min(this.ratePerSecond, this.tokens + refill)
    this.refilledAtMs = now
    if (this.tokens < 1) return false
    this.tokens--
    return true
  }
}
