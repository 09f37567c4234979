// Runs the scheduled handlers on timers, as EventBridge rules do on AWS: each gets a
// ScheduledEvent every `everySeconds`. A run never overlaps the previous run of the same
// schedule (the next timer starts when a run ends), so a slow sweeper can't pile up.
import type { Schedule } from '@meridian/aws'
import { scheduledEvent } from './lambda-events'
import type { InvocationOptions, InvocationOutcome } from './worker-pool'

export interface SchedulerOptions {
  schedules: readonly Schedule[]
  region: string
  invoke: (
    handler: string,
    event: unknown,
    options: InvocationOptions,
  ) => Promise<InvocationOutcome>
  onRun?: (schedule: Schedule, outcome: InvocationOutcome) => void
}

export class Scheduler {
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly running = new Set<Promise<void>>()
  private stopped = false

  constructor(private readonly options: SchedulerOptions) {}

  start(): void {
    for (const schedule of this.options.schedules) this.arm(schedule)
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    await Promise.all(this.running)
  }

  private arm(schedule: Schedule): void {
    if (this.stopped) return
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      const run = this.run(schedule).finally(() => {
        this.running.delete(run)
        this.arm(schedule)
      })
      this.running.add(run)
    }, schedule.everySeconds * 1000)
    this.timers.add(timer)
  }

  private async run(schedule: Schedule): Promise<void> {
    const outcome = await this.options.invoke(
      schedule.handler,
      scheduledEvent(schedule.name, this.options.region),
      { functionName: schedule.name, timeoutMs: schedule.timeoutSeconds * 1000 },
    )
    this.options.onRun?.(schedule, outcome)
  }
}
