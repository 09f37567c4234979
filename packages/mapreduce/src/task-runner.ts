// Running one map or reduce task, and the stage barrier that follows it.
//
// Stage barrier ("last one out"), as implemented here and in dynamodb-job-store.ts:
//   1. A task message arrives (SQS, at least once). The task reads the job: not running
//      (cancelled, failed) → it stops; the job is past the task's stage → it was counted
//      already (if it was the task that started the next stage and that launch isn't
//      confirmed, it sends the next stage's tasks again and confirms).
//   2. It computes and writes its outputs under deterministic names (a re-run writes the
//      same bytes to the same keys), checking for cancellation on the way.
//   3. It completes: one transaction creates its done marker (attribute_not_exists) and
//      adds 1 to the stage counter (job running, same stage). A second completion of the
//      same task fails on the marker and counts nothing.
//   4. It reads the job. If the counter equals the stage's task count, it moves the job
//      to the next stage with a conditional write (same stage, counter complete): exactly
//      one task wins; it records itself as `launchedBy`.
//   5. The winner sends the next stage's task messages and marks the launch confirmed.
//      A crash between 4 and 5 leaves the launch unconfirmed: the winner's message comes
//      back (step 1 re-sends), and the sweeper re-sends tasks missing from any stage that
//      runs too long. Duplicate messages are harmless: task effects are idempotent.
//   A crash between 3 and 4 leaves a complete stage nobody advanced: any re-delivered task
//   of that stage finds itself counted and retries step 4.
import { JobConditionError, LineTooLongError } from './errors'
import type { AnyJobDefinition, JobRegistry } from './job-definition'
import { partitionOf } from './job-definition'
import {
  type Counters,
  type JobRecord,
  JobState,
  objectKeys,
  Stage,
  stageKey,
  type TaskRef,
  taskId,
} from './job-model'
import { fetchStart, ownedLines, recordsOf } from './line-splits'
import type { MapTaskPlan, Segment } from './planner'
import type { BlobStore, JobStore, TaskQueue } from './ports'

export interface TaskHooks {
  /** Runs after a task wrote its outputs and before it completes (fault injection). */
  afterOutputsWritten?(task: TaskRef): void | Promise<void>
}

export interface MapReduceDependencies {
  jobs: JobStore
  queue: TaskQueue
  blobs: BlobStore
  registry: JobRegistry
  clock?: () => number
  hooks?: TaskHooks
}

export interface JobPlan {
  tasks: MapTaskPlan[]
}

export type TaskOutcome = 'completed' | 'duplicate' | 'stopped'

const lookaheadBytes = 64 * 1024
const lineBytesMax = 1024 * 1024
const cancellationCheckIntervalMs = 1000
const reduceFetchConcurrency = 8
const segmentReadConcurrency = 16
const planCacheEntriesMax = 32

// Warm instances keep plans of recent jobs; a plan never changes once written.
const planCache = new Map<string, JobPlan>()

class TaskStopped extends Error {}

export async function runTask(
  dependencies: MapReduceDependencies,
  task: TaskRef,
): Promise<TaskOutcome> {
  const clock = dependencies.clock ?? Date.now
  const startedAtMs = clock()
  const { jobs } = dependencies
  // Both reads at once: one round trip less per task (the marker matters only when the
  // job is running the task's stage).
  const [job, done] = await Promise.all([jobs.get(task.tenant, task.jobId), jobs.isTaskDone(task)])
  if (!job || job.state !== JobState.running) return 'stopped'
  if (stageKey(job) !== stageKey(task)) {
    if (job.launchedBy === taskId(task) && !job.launchConfirmed)
      await launchStage(dependencies, job)
    return 'duplicate'
  }
  if (done) {
    await completeStageIfDone(dependencies, task)
    return 'duplicate'
  }
  const definition = dependencies.registry.get(job.name)
  const counters: Partial<Counters> = { dynamodbReadUnits: 2, sqsRequests: 2 }
  try {
    const guard = cancellationGuard(dependencies, task, clock)
    if (task.stage === Stage.map) await runMap(dependencies, definition, job, task, counters, guard)
    else await runReduce(dependencies, definition, job, task, counters)
    // No final cancellation read: the completion below is conditional on the job still
    // running this stage, so a task of a cancelled job is never counted (it stops there).
  } catch (error) {
    if (error instanceof TaskStopped) return 'stopped'
    throw error
  }
  await dependencies.hooks?.afterOutputsWritten?.(task)
  counters[task.stage === Stage.map ? 'mapTasks' : 'reduceTasks'] = 1
  counters.dynamodbWriteUnits = 4
  counters.invocationMs = clock() - startedAtMs
  try {
    const outcome = await jobs.completeTask(task, counters, clock())
    await completeStageIfDone(dependencies, task)
    return outcome === 'counted' ? 'completed' : 'duplicate'
  } catch (error) {
    if (error instanceof JobConditionError) return 'stopped'
    throw error
  }
}

/** Throws TaskStopped once the job stopped running; reads the job at most once a second. */
function cancellationGuard(
  dependencies: MapReduceDependencies,
  task: TaskRef,
  clock: () => number,
) {
  let checkedAtMs = clock()
  return async () => {
    if (clock() - checkedAtMs < cancellationCheckIntervalMs) return
    checkedAtMs = clock()
    const job = await dependencies.jobs.get(task.tenant, task.jobId)
    if (!job || job.state !== JobState.running) throw new TaskStopped()
  }
}

async function runMap(
  dependencies: MapReduceDependencies,
  definition: AnyJobDefinition,
  job: JobRecord,
  task: TaskRef,
  counters: Partial<Counters>,
  guard: () => Promise<void>,
): Promise<void> {
  const { blobs } = dependencies
  const plan = await loadPlan(blobs, task.tenant, task.jobId, counters)
  const taskPlan = plan.tasks[task.task]
  if (!taskPlan) throw new Error(`job ${task.jobId} has no map task ${task.task}`)
  const combine = definition.combine?.bind(definition)
  const combined = new Map<string, unknown>()
  const emit = combine
    ? (key: string, value: unknown) => {
        const previous = combined.get(key)
        combined.set(key, previous === undefined ? value : combine(previous, value))
      }
    : (key: string, value: unknown) => {
        const previous = combined.get(key) as unknown[] | undefined
        if (previous) previous.push(value)
        else combined.set(key, [value])
      }
  let recordsIn = 0
  let bytesIn = 0
  // Many small input objects make a task many small reads: keep several in flight and
  // count them in plan order while the next ones arrive.
  const texts = inOrder(taskPlan.segments, segmentReadConcurrency, (segment) =>
    readSegment(blobs, segment, counters),
  )
  for (const segment of taskPlan.segments) {
    await guard()
    const text = (await texts.next()).value as string
    bytesIn += Buffer.byteLength(text)
    const context = {
      params: job.params,
      model: job.model,
      round: task.round,
      sourceKey: segment.key,
      task: task.task,
    }
    for (const record of recordsOf(text)) {
      definition.map(record, emit, context)
      recordsIn++
    }
  }
  const partitions: Array<Array<[string, unknown]>> = Array.from(
    { length: job.partitions },
    () => [],
  )
  for (const [key, value] of combined) {
    const values = combine ? [value] : (value as unknown[])
    for (const each of values)
      partitions[partitionOf(definition, key, job.partitions)]!.push([key, each])
  }
  await guard()
  await Promise.all(
    partitions.map(async (pairs, partition) => {
      const body = JSON.stringify(pairs)
      await blobs.put(
        objectKeys.intermediate(task.tenant, task.jobId, task.round, task.task, partition),
        body,
        'application/json',
      )
    }),
  )
  Object.assign(counters, { recordsIn, bytesIn, s3PutRequests: job.partitions })
}

async function runReduce(
  dependencies: MapReduceDependencies,
  definition: AnyJobDefinition,
  job: JobRecord,
  task: TaskRef,
  counters: Partial<Counters>,
): Promise<void> {
  const { blobs } = dependencies
  const keys = Array.from({ length: job.mapTasks }, (_, mapTask) =>
    objectKeys.intermediate(task.tenant, task.jobId, task.round, mapTask, task.task),
  )
  const bodies = await mapConcurrently(keys, reduceFetchConcurrency, async (key) => {
    const body = await blobs.get(key)
    if (!body) throw new Error(`intermediate object ${key} is missing`)
    return body
  })
  // Values of a key arrive in map-task order, so a reduce re-run sees the same sequence.
  const groups = new Map<string, unknown[]>()
  const decoder = new TextDecoder()
  for (const body of bodies) {
    for (const [key, value] of JSON.parse(decoder.decode(body)) as Array<[string, unknown]>) {
      const values = groups.get(key)
      if (values) values.push(value)
      else groups.set(key, [value])
    }
  }
  const context = { params: job.params, model: job.model, round: task.round }
  const lines: string[] = []
  for (const key of [...groups.keys()].sort(compareStrings)) {
    lines.push(JSON.stringify([key, definition.reduce(key, groups.get(key)!, context)]))
  }
  const body = lines.length > 0 ? `${lines.join('\n')}\n` : ''
  const outputKey = definition.iterate
    ? objectKeys.reduceOutput(task.tenant, task.jobId, task.round, task.task)
    : objectKeys.output(task.tenant, task.jobId, task.task)
  await blobs.put(outputKey, body, 'application/x-ndjson')
  Object.assign(counters, {
    recordsOut: lines.length,
    bytesOut: Buffer.byteLength(body),
    s3GetRequests: keys.length,
    s3PutRequests: 1,
  })
}

/** Steps 4 and 5 of the barrier: the task that sees its stage complete starts the next. */
async function completeStageIfDone(
  dependencies: MapReduceDependencies,
  task: TaskRef,
): Promise<void> {
  const job = await dependencies.jobs.get(task.tenant, task.jobId)
  if (!job || job.state !== JobState.running) return
  if (stageKey(job) !== stageKey(task) || job.stageDone < job.stageTotal) return
  try {
    await advance(dependencies, job, taskId(task))
  } catch (error) {
    // Another task of the stage advanced it first: exactly one wins.
    if (!(error instanceof JobConditionError)) throw error
  }
}

async function advance(
  dependencies: MapReduceDependencies,
  job: JobRecord,
  launchedBy: string,
): Promise<void> {
  const { jobs, blobs } = dependencies
  const clock = dependencies.clock ?? Date.now
  const definition = dependencies.registry.get(job.name)
  if (job.stage === Stage.map) {
    const next = await jobs.advanceStage(
      job,
      { round: job.round, stage: Stage.reduce, total: job.partitions, launchedBy },
      clock(),
    )
    await launchStage(dependencies, next)
    return
  }
  if (!definition.iterate) {
    await jobs.succeed(job, job.partitions, undefined, clock())
    return
  }
  const outputs: Array<readonly [string, unknown]> = []
  for (let partition = 0; partition < job.partitions; partition++) {
    const body = await blobs.get(
      objectKeys.reduceOutput(job.tenant, job.jobId, job.round, partition),
    )
    if (!body) throw new Error(`reduce output ${partition} of round ${job.round} is missing`)
    for (const line of recordsOf(new TextDecoder().decode(body))) outputs.push(JSON.parse(line))
  }
  const step = definition.iterate.next({
    params: job.params,
    model: job.model,
    round: job.round,
    outputs,
  })
  if (step.converged || job.round + 1 >= job.roundsMax || job.mapTasks === 0) {
    const lines = Object.entries(step.model as Record<string, unknown>).map((entry) =>
      JSON.stringify(entry),
    )
    lines.push(
      JSON.stringify(['rounds', job.round + 1]),
      JSON.stringify(['converged', step.converged]),
    )
    await blobs.put(
      objectKeys.output(job.tenant, job.jobId, 0),
      `${lines.join('\n')}\n`,
      'application/x-ndjson',
    )
    await jobs.succeed(job, 1, step.model, clock())
    return
  }
  const next = await jobs.advanceStage(
    job,
    { round: job.round + 1, stage: Stage.map, total: job.mapTasks, model: step.model, launchedBy },
    clock(),
  )
  await launchStage(dependencies, next)
}

/** Sends every task of the job's current stage, then marks the launch confirmed. */
export async function launchStage(
  dependencies: MapReduceDependencies,
  job: JobRecord,
): Promise<void> {
  const tasks = Array.from({ length: job.stageTotal }, (_, task) => ({
    tenant: job.tenant,
    jobId: job.jobId,
    round: job.round,
    stage: job.stage,
    task,
  }))
  await dependencies.queue.send(tasks)
  await dependencies.jobs.confirmLaunch(job)
}

export async function loadPlan(
  blobs: BlobStore,
  tenant: string,
  jobId: string,
  counters?: Partial<Counters>,
): Promise<JobPlan> {
  const cacheKey = `${tenant}/${jobId}`
  const cached = planCache.get(cacheKey)
  if (cached) return cached
  const body = await blobs.get(objectKeys.plan(tenant, jobId))
  if (!body) throw new Error(`the plan of job ${jobId} is missing`)
  if (counters) counters.s3GetRequests = (counters.s3GetRequests ?? 0) + 1
  const plan = JSON.parse(new TextDecoder().decode(body)) as JobPlan
  if (planCache.size >= planCacheEntriesMax) planCache.delete(planCache.keys().next().value!)
  planCache.set(cacheKey, plan)
  return plan
}

/** The text of the lines a segment owns (see line-splits.ts), fetching more if a line runs on. */
async function readSegment(
  blobs: BlobStore,
  segment: Segment,
  counters: Partial<Counters>,
): Promise<string> {
  const from = fetchStart(segment.start)
  let until = Math.min(segment.size, segment.end + lookaheadBytes)
  let bytes = await blobs.getRange(segment.key, from, until)
  let requests = 1
  for (;;) {
    const owned = ownedLines({ offset: from, bytes }, segment)
    if (owned.complete) {
      counters.s3GetRequests = (counters.s3GetRequests ?? 0) + requests
      return new TextDecoder().decode(bytes.subarray(owned.from - from, owned.to - from))
    }
    if (until - segment.end > lineBytesMax)
      throw new LineTooLongError(segment.key, segment.end, lineBytesMax)
    const more = await blobs.getRange(
      segment.key,
      until,
      Math.min(segment.size, until + lookaheadBytes * 4),
    )
    requests++
    const joined = new Uint8Array(bytes.length + more.length)
    joined.set(bytes)
    joined.set(more, bytes.length)
    bytes = joined
    until += more.length
  }
}

async function mapConcurrently<T, R>(
  items: readonly T[],
  concurrency: number,
  run: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await run(items[index]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
  return results
}

/**
 * Results of `run` over `items`, in order, with up to `concurrency` runs in flight ahead of
 * the consumer. A failed run surfaces when its turn comes; runs after it are abandoned.
 */
async function* inOrder<T, R>(
  items: readonly T[],
  concurrency: number,
  run: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const inFlight: Array<Promise<R>> = []
  let next = 0
  const fill = () => {
    while (next < items.length && inFlight.length < concurrency) {
      const promise = run(items[next++]!)
      // Handled when its turn comes; until then a rejection must not count as unhandled.
      promise.catch(() => undefined)
      inFlight.push(promise)
    }
  }
  fill()
  while (inFlight.length > 0) {
    const result = await inFlight.shift()!
    fill()
    yield result
  }
}

function compareStrings(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0
}
