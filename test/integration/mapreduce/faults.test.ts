// Faults on the real engines: a worker that dies after writing its outputs but before
// completing, every message delivered twice, a poison task, a lost launch recovered by
// the sweeper. Outputs must equal the single-process word count every time, and each test
// also checks that its fault really fired (a correct result alone is what a run without
// the fault gives too).
import { setTimeout as delay } from 'node:timers/promises'
import { forEachWord } from '@meridian/mapreduce'
import { describe, expect, it } from 'vitest'
import { type Harness, readOutput, startHarness } from './harness'

const tenant = `f${Math.random().toString(36).slice(2, 8)}`
const records = Array.from(
  { length: 300 },
  (_, index) => `The/at jury/nn said/vbd w${index % 23} ${index % 5}`,
)

function expectedCounts(lines: readonly string[]) {
  const counts = new Map<string, number>()
  for (const line of lines)
    forEachWord(line, (word) => counts.set(word, (counts.get(word) ?? 0) + 1))
  return [...counts].sort(([left], [right]) => (left < right ? -1 : 1))
}

const sorted = (pairs: Array<[string, unknown]>) =>
  [...pairs].sort(([left], [right]) => (left < right ? -1 : 1))

/** Runs word count under a fault: the job succeeds, counts every task once, and is exact. */
async function expectEachTaskCountedOnce(
  harnessOptions: Parameters<typeof startHarness>[0],
  partitions: number,
  expectFaultFired: (harness: Harness, tasks: number) => Promise<void>,
) {
  const harness = await startHarness(harnessOptions)
  try {
    const job = await harness.service.submit(tenant, {
      job: 'word-count',
      input: { records },
      splitBytes: 2048,
      partitions,
    })
    const done = await harness.waitForJob(tenant, job.id)
    expect(done.state).toBe('SUCCEEDED')
    expect(done.counters.mapTasks).toBe(job.mapTasks)
    expect(done.counters.reduceTasks).toBe(partitions)
    expect(done.counters.recordsIn).toBe(records.length)
    expect(sorted(await readOutput(harness.service, tenant, job.id))).toEqual(
      expectedCounts(records),
    )
    await expectFaultFired(harness, job.mapTasks + partitions)
  } finally {
    await harness.stop()
  }
}

const count = (outcomes: readonly string[], outcome: string) =>
  outcomes.filter((candidate) => candidate === outcome).length

/**
 * Waits (bounded) until the workers have reported at least this many task runs, and at
 * least `completed` completions: a worker reports its run after the job may already show
 * as done, and under load a redelivery can add runs, so a count of runs alone can be
 * reached before the last completion is reported.
 */
async function taskRunsReported(harness: Harness, runs: number, completed = 0) {
  const reported = () => {
    const outcomes = harness.taskOutcomes()
    return outcomes.length >= runs && count(outcomes, 'completed') >= completed
  }
  for (let attempt = 0; attempt < 100 && !reported(); attempt++) await delay(100)
  return harness.taskOutcomes()
}

describe('MapReduce under faults', () => {
  it('counts each task once when workers die after writing outputs, before completing', () =>
    expectEachTaskCountedOnce(
      { fault: 'crash-after-output', visibilityTimeoutSeconds: 1 },
      2,
      async (harness, tasks) => {
        // Task 0 of each stage killed its instance on first delivery (map, then reduce),
        // and the redelivered task completed on a fresh one. Under load the redelivery (1 s
        // visibility) can finish the job before the first instance reaches its crash, so
        // the second death may be reported after the job shows as done: wait for it.
        for (let attempt = 0; attempt < 100 && harness.instancesReplaced() < 2; attempt++)
          await delay(100)
        expect(harness.instancesReplaced()).toBe(2)
        expect(count(await taskRunsReported(harness, tasks, tasks), 'completed')).toBe(tasks)
      },
    ))

  it('counts each task once when every message is delivered twice', () =>
    expectEachTaskCountedOnce({ fault: 'duplicate' }, 3, async (harness, tasks) => {
      // Every task ran from both copies of its message: one run counted it, the other was
      // recognised as a duplicate (or, once the job had finished, stopped).
      const outcomes = await taskRunsReported(harness, 2 * tasks, tasks)
      expect(count(outcomes, 'completed')).toBe(tasks)
      expect(count(outcomes, 'duplicate')).toBeGreaterThan(0)
      expect(count(outcomes, 'duplicate') + count(outcomes, 'stopped')).toBeGreaterThanOrEqual(
        tasks,
      )
    }))

  it('fails the job with the reason when a poison task exhausts its attempts, and dead-letters it', async () => {
    const harness = await startHarness({
      fault: 'poison',
      attemptsMax: 2,
      // Long enough that a slow first attempt (a loaded machine) can't overlap the second,
      // which would make the retry count race the failure.
      visibilityTimeoutSeconds: 3,
    })
    try {
      const job = await harness.service.submit(tenant, {
        job: 'poison-word-count',
        input: { records: ['fine words', 'poison', 'more fine words'] },
      })
      const done = await harness.waitForJob(tenant, job.id)
      expect(done.state).toBe('FAILED')
      expect(done.failure).toMatch(
        /map task 0 of round 0 failed 2 times; last error: Error: this record poisons the task/,
      )
      expect(done.counters.retries).toBe(1)
      let deadLettered = 0
      for (let attempt = 0; attempt < 10 && deadLettered === 0; attempt++)
        deadLettered = await harness.deadLetterDepth()
      expect(deadLettered).toBe(1)
    } finally {
      await harness.stop()
    }
  })

  it('re-sends the tasks of a lost launch from the sweeper, and the job completes', async () => {
    const harness = await startHarness({ fault: 'none' })
    try {
      // Submit with a queue that loses every message: the stage starts, no task runs.
      const lost = { ...harness.dependencies, queue: { send: async () => 0 } }
      const { JobService } = await import('@meridian/mapreduce')
      const job = await new JobService(lost).submit(tenant, {
        job: 'word-count',
        input: { records },
        splitBytes: 4096,
      })
      const swept = await harness.service.sweep({
        stragglerAfterMs: 0,
        sweepsMax: 3,
        jobsMax: 1000,
      })
      expect(swept.reenqueued).toBeGreaterThanOrEqual(job.mapTasks)
      const done = await harness.waitForJob(tenant, job.id)
      expect(done.state).toBe('SUCCEEDED')
      expect(done.counters.speculativeTasks).toBe(job.mapTasks)
      expect(sorted(await readOutput(harness.service, tenant, job.id))).toEqual(
        expectedCounts(records),
      )
    } finally {
      await harness.stop()
    }
  })
})
