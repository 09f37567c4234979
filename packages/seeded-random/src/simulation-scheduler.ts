// A seeded scheduler for deterministic simulation: every port call parks until the
// scheduler picks it, in an order drawn from the seed, and the fake clock moves a random
// step each time. The same seed replays the same interleaving, so a failure is reproducible.
import { seededRandom } from './index'

/** A clock the scheduler moves forward one random step per released call. */
export interface AdvancingClock {
  advance(ms: number): void
}

const nextMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve))

export class SimulationScheduler {
  private readonly parked: (() => void)[] = []
  readonly random: () => number
  steps = 0
  /** Which parked call each step released (its index among those parked): the interleaving. */
  readonly released: number[] = []

  constructor(
    seed: number,
    readonly clock: AdvancingClock,
    private readonly clockStepMaxMs: number,
    private readonly stepsMax = 10_000,
  ) {
    this.random = seededRandom(seed)
  }

  /** Parks the caller until the scheduler picks it. */
  pause(): Promise<void> {
    return new Promise((resolve) => this.parked.push(resolve))
  }

  chance(probability: number): boolean {
    return this.random() < probability
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!
  }

  /** Runs tasks to completion, releasing one parked call at a time in seeded order. */
  async run<T>(tasks: readonly (() => Promise<T>)[]): Promise<PromiseSettledResult<T>[]> {
    let unsettled = tasks.length
    const all = Promise.allSettled(
      tasks.map((task) =>
        task().finally(() => {
          unsettled--
        }),
      ),
    )
    while (unsettled > 0) {
      await nextMacrotask()
      if (this.parked.length === 0) continue
      if (++this.steps > this.stepsMax) throw new Error('simulation exceeded its step bound')
      const index = Math.floor(this.random() * this.parked.length)
      const [release] = this.parked.splice(index, 1)
      this.released.push(index)
      this.clock.advance(Math.floor(this.random() * this.clockStepMaxMs))
      release!()
    }
    return all
  }
}
