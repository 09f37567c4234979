import type { Schedule } from '@meridian/aws'
import { type InvocationOutcome, repositoryRoot, Scheduler, WorkerPool } from '@meridian/local'
import { describe, expect, it } from 'vitest'

describe('Scheduler', () => {
  it('invokes a scheduled handler with a ScheduledEvent, repeatedly, never overlapping', async () => {
    const pool = new WorkerPool({ rootDirectory: repositoryRoot, size: 2 })
    const schedule: Schedule = {
      name: 'EchoEvery100ms',
      handler: 'test/fixtures/handlers.sleepThenAnswer',
      everySeconds: 0.1,
      timeoutSeconds: 5,
      links: [],
    }
    const runs: Array<{ start: number; end: number; event: unknown }> = []
    let active = 0
    let maxActive = 0
    const scheduler = new Scheduler({
      schedules: [schedule],
      region: 'us-east-1',
      invoke: async (handler, event, options) => {
        active++
        maxActive = Math.max(maxActive, active)
        const start = Date.now()
        const outcome: InvocationOutcome = await pool.invoke(
          handler,
          { ...(event as object), ms: 150 },
          options,
        )
        active--
        runs.push({ start, end: Date.now(), event })
        return outcome
      },
    })
    scheduler.start()
    while (runs.length < 3) await new Promise((resolve) => setTimeout(resolve, 20))
    await scheduler.stop()
    await pool.close()
    expect(maxActive).toBe(1)
    expect(runs[0]!.event).toMatchObject({ 'detail-type': 'Scheduled Event', source: 'aws.events' })
    for (let index = 1; index < runs.length; index++) {
      expect(runs[index]!.start).toBeGreaterThanOrEqual(runs[index - 1]!.end)
    }
  })
})
