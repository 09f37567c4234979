// A clock that moves only when told: the simulation advances it step by step.
import type { Clock } from '../ports'

export class FakeClock implements Clock {
  constructor(private currentMs = 1_700_000_000_000) {}

  nowMs(): number {
    return this.currentMs
  }

  advance(ms: number): void {
    if (ms < 0) throw new Error('a clock never moves backwards')
    this.currentMs += ms
  }
}
