// Submitting, reading, cancelling and sweeping jobs, and handling one task message. The
// HTTP routes, the event triggers and the workers call these; nothing here knows HTTP or
// Lambda event types.
import { createHash } from 'node:crypto'
import { z } from 'zod'
import { type CostEstimate, estimateCost } from './cost'
import { JobConditionError, JobExistsError, JobNotFoundError, JobSpecError } from './errors'
import {
  type Counters,
  isTerminal,
  type JobRecord,
  JobState,
  jobIdPattern,
  objectKeys,
  parseIncomingKey,
  Stage,
  type TaskRef,
  taskId,
  tenantPattern,
  zeroCounters,
} from './job-model'
import {
  type InputObject,
  type MapTaskPlan,
  mapTasksMax,
  planMapTasks,
  splitBytesMin,
} from './planner'
import type { JobListQuery } from './ports'
import { claimRunningJobSlot, type HeldSlot, type RunningJobLimit } from './running-job-limit'
import { launchStage, type MapReduceDependencies, runTask, type TaskOutcome } from './task-runner'

export const recordsMax = 100_000
/** User metadata of an incoming object: the id of the job its upload starts. */
export const uploadJobIdMetadata = 'meridian-job-id'
export const splitBytesDefault = 8 * 1024 * 1024
export const partitionsDefault = 4

const inlineRecord = z.union([
  z
    .string()
    .max(64 * 1024)
    .refine((value) => !/[\r\n]/.test(value), 'a record is one line'),
  z.record(z.string(), z.unknown()),
])

export const jobSpecSchema = z
  .object({
    job: z.string().min(1).max(100),
    params: z.record(z.string(), z.unknown()).default({}),
    input: z.union([
      z.object({ records: z.array(inlineRecord).max(recordsMax) }).strict(),
      z
        .object({
          prefix: z
            .string()
            .min(1)
            .max(900)
            .refine(
              (value) => !value.startsWith('/') && !value.split('/').includes('..'),
              'a relative prefix',
            ),
        })
        .strict(),
    ]),
    splitBytes: z
      .number()
      .int()
      .min(splitBytesMin)
      .max(256 * 1024 * 1024)
      .default(splitBytesDefault),
    partitions: z.number().int().min(1).max(256).default(partitionsDefault),
  })
  .strict()
export type JobSpec = z.input<typeof jobSpecSchema>

/** Input not expressible over HTTP: an object uploaded under `incoming/` (the trigger). */
export type SubmitInput = { incomingKey: string }

export interface JobView {
  id: string
  job: string
  state: JobState
  round: number
  stage: Stage
  tasks: { done: number; total: number }
  mapTasks: number
  partitions: number
  counters: Counters
  cost: CostEstimate
  failure?: string
  lastError?: string
  model?: unknown
  output?: { parts: number }
  createdAt: string
  updatedAt: string
}

export interface SweepOptions {
  /** A stage running longer than this has stragglers; their tasks are sent again. */
  stragglerAfterMs: number
  /** Sweeps per stage before the job is failed (a task that never completes). */
  sweepsMax: number
  jobsMax: number
}

export interface SweepResult {
  jobs: number
  reenqueued: number
  failed: string[]
}

export interface JobServiceOptions {
  /** Bounds each tenant's running jobs; without it, submits are not limited. */
  runningJobLimit?: RunningJobLimit
}

export class JobService {
  constructor(
    private readonly dependencies: MapReduceDependencies,
    private readonly options: JobServiceOptions = {},
  ) {
    const max = options.runningJobLimit?.runningJobsPerTenantMax
    if (max !== undefined && !(Number.isInteger(max) && max >= 1)) {
      throw new RangeError(`runningJobsPerTenantMax must be an integer ≥ 1, not ${max}`)
    }
  }

  private now(): number {
    return (this.dependencies.clock ?? Date.now)()
  }

  /** Plans and starts a job. A job id given twice (a redelivered event) starts one job. */
  async submit(
    tenant: string,
    spec: unknown,
    options: { jobId?: string; input?: SubmitInput } = {},
  ): Promise<JobView> {
    assertTenant(tenant)
    const parsed = jobSpecSchema.safeParse(spec)
    if (!parsed.success) {
      throw new JobSpecError(
        'the job spec is invalid',
        parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
      )
    }
    const { blobs, registry } = this.dependencies
    const definition = registry.get(parsed.data.job)
    const params = definition.params.safeParse(parsed.data.params)
    if (!params.success) {
      throw new JobSpecError(
        `the params of ${definition.name} are invalid`,
        params.error.issues.map((issue) => `params.${issue.path.join('.')}: ${issue.message}`),
      )
    }
    const jobId = options.jobId ?? crypto.randomUUID()
    if (!jobIdPattern.test(jobId)) throw new JobSpecError(`job id ${jobId} is not valid`)
    const existing = await this.dependencies.jobs.get(tenant, jobId)
    if (existing) return toView(existing)

    const limit = this.options.runningJobLimit
    const slot = limit
      ? await claimRunningJobSlot(limit, this.dependencies.jobs, tenant, jobId, this.now())
      : undefined
    let tasks: MapTaskPlan[]
    try {
      const objects = await this.inputObjects(tenant, jobId, parsed.data.input, options.input)
      tasks = planMapTasks(objects, parsed.data.splitBytes)
      if (tasks.length > mapTasksMax) {
        throw new JobSpecError(
          `the input needs ${tasks.length} map tasks; at most ${mapTasksMax}`,
          ['raise splitBytes'],
        )
      }
    } catch (error) {
      // The job will not exist: give its slot back now rather than after the creation grace.
      await this.releaseClaimed(tenant, jobId, slot)
      throw error
    }
    await blobs.put(objectKeys.plan(tenant, jobId), JSON.stringify({ tasks }), 'application/json')
    const partitions = definition.partitions?.(params.data) ?? parsed.data.partitions
    const nowMs = this.now()
    const job: JobRecord = {
      tenant,
      jobId,
      name: definition.name,
      params: params.data,
      state: JobState.running,
      round: 0,
      // With no input there is nothing to map: the reduce stage runs over zero map outputs.
      stage: tasks.length > 0 ? Stage.map : Stage.reduce,
      stageTotal: tasks.length > 0 ? tasks.length : partitions,
      stageDone: 0,
      mapTasks: tasks.length,
      partitions,
      roundsMax: definition.iterate?.roundsMax(params.data) ?? 1,
      model: definition.iterate?.initialModel(params.data),
      counters: zeroCounters(),
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
      stageStartedAtMs: nowMs,
      launchedBy: 'submit',
      launchConfirmed: false,
      stageSweeps: 0,
    }
    try {
      await this.dependencies.jobs.create(job)
    } catch (error) {
      if (error instanceof JobExistsError) {
        await this.releaseDuplicateClaim(tenant, jobId, slot)
        return toView(error.current)
      }
      throw error
    }
    await launchStage(this.dependencies, job)
    return toView(job)
  }

  private async releaseClaimed(tenant: string, jobId: string, slot: HeldSlot | undefined) {
    const limit = this.options.runningJobLimit
    if (limit && slot?.claimedNow) await limit.slots.release(tenant, slot.index, jobId)
  }

  /**
   * A concurrent submit of the same id created the job first. If both claimed a slot, the
   * job holds two: give ours back. If it runs on the slot we claimed, keep it.
   */
  private async releaseDuplicateClaim(tenant: string, jobId: string, slot: HeldSlot | undefined) {
    const limit = this.options.runningJobLimit
    if (!limit || !slot?.claimedNow) return
    const claims = (await limit.slots.list(tenant)).filter((claim) => claim.jobId === jobId)
    if (claims.length > 1) await limit.slots.release(tenant, slot.index, jobId)
  }

  /** The tenant's jobs, newest first, one page at a time (see JobStore.list). */
  async list(
    tenant: string,
    query: JobListQuery,
  ): Promise<{ items: JobView[]; nextCursor: string | null }> {
    assertTenant(tenant)
    const page = await this.dependencies.jobs.list(tenant, query)
    return { items: page.jobs.map(toView), nextCursor: page.nextCursor }
  }

  async get(tenant: string, jobId: string): Promise<JobView> {
    return toView(await this.record(tenant, jobId))
  }

  async record(tenant: string, jobId: string): Promise<JobRecord> {
    assertTenant(tenant)
    const job = jobIdPattern.test(jobId)
      ? await this.dependencies.jobs.get(tenant, jobId)
      : undefined
    if (!job) throw new JobNotFoundError(tenant, jobId)
    return job
  }

  /** Cancels a running job: no task starts after this, running ones stop at their next check. */
  async cancel(tenant: string, jobId: string): Promise<JobView> {
    await this.record(tenant, jobId)
    return toView(await this.dependencies.jobs.cancel(tenant, jobId, this.now()))
  }

  /** Output part keys of a succeeded job; JobConditionError while it isn't. */
  async outputKeys(tenant: string, jobId: string): Promise<string[]> {
    const job = await this.record(tenant, jobId)
    if (job.state !== JobState.succeeded) {
      throw new JobConditionError(`job ${jobId} is ${job.state}, not SUCCEEDED`, job)
    }
    return Array.from({ length: job.outputParts ?? 0 }, (_, part) =>
      objectKeys.output(tenant, jobId, part),
    )
  }

  /** The output parts of a succeeded job, concatenated (NDJSON `[key, value]` lines). */
  async output(tenant: string, jobId: string, part?: number): Promise<ReadableStream<Uint8Array>> {
    const keys = await this.outputKeys(tenant, jobId)
    const selected = part === undefined ? keys : keys.slice(part, part + 1)
    if (part !== undefined && selected.length === 0)
      throw new JobNotFoundError(tenant, `${jobId}/output/${part}`)
    const { blobs } = this.dependencies
    let index = 0
    let current: ReadableStreamDefaultReader<Uint8Array> | undefined
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        for (;;) {
          if (!current) {
            const key = selected[index++]
            if (key === undefined) return controller.close()
            const stream = await blobs.stream(key)
            if (!stream) throw new Error(`output part ${key} is missing`)
            current = stream.getReader()
          }
          const { done, value } = await current.read()
          if (!done) return controller.enqueue(value)
          current = undefined
        }
      },
    })
  }

  /**
   * Stores an object in the tenant's space: `tenants/<tenant>/<path>` or, for `incoming`,
   * under the trigger prefix. An incoming object carries the id of the job its upload
   * notification will start (user metadata `meridian-job-id`, see startFromUpload), so the
   * uploader learns that id at once.
   */
  async upload(
    tenant: string,
    path: string,
    body: Uint8Array,
    options: { incomingJob?: string } = {},
  ): Promise<{ key: string; bytes: number; jobId?: string }> {
    assertTenant(tenant)
    if (path.length === 0 || path.startsWith('/') || path.split('/').includes('..')) {
      throw new JobSpecError(`${path} is not a valid object path`)
    }
    if (!options.incomingJob) {
      const key = `${objectKeys.tenantRoot(tenant)}${path}`
      await this.dependencies.blobs.put(key, body)
      return { key, bytes: body.length }
    }
    const name = this.dependencies.registry.get(options.incomingJob).name
    const key = objectKeys.incoming(tenant, name, path)
    const jobId = `upload-${crypto.randomUUID().replaceAll('-', '')}`
    await this.dependencies.blobs.put(key, body, undefined, { [uploadJobIdMetadata]: jobId })
    return { key, bytes: body.length, jobId }
  }

  /**
   * Starts the job an upload under `incoming/<tenant>/<job>/` names; one job per object
   * version. The id is the one the uploading request chose and stored on the object, when
   * the object still is the version the event announces (same ETag); otherwise (an object
   * put by another client, or overwritten since) it derives from the event's key, ETag and
   * sequencer. A redelivered or retried event reads the same object and resolves to the
   * same id, and submit starts one job per id. (Only an overwrite landing between two
   * deliveries of one event changes its id; the overwrite's own event starts a job anyway.)
   */
  async startFromUpload(object: { key: string; eTag?: string; sequencer?: string }) {
    const parsed = parseIncomingKey(object.key)
    if (!parsed) return undefined
    const stored = await this.dependencies.blobs.head(object.key)
    const chosen = stored?.metadata[uploadJobIdMetadata]
    const jobId =
      chosen !== undefined &&
      /^upload-[0-9a-f]{32}$/.test(chosen) &&
      stored?.eTag === object.eTag?.replace(/"/g, '')
        ? chosen
        : `upload-${digest(`${object.key}\n${object.eTag ?? ''}\n${object.sequencer ?? ''}`)}`
    return this.submit(
      parsed.tenant,
      { job: parsed.jobName, input: { records: [] } },
      { jobId, input: { incomingKey: object.key } },
    )
  }

  /** Starts a scheduled job once per scheduled time (the id derives from the rule and time). */
  async startScheduled(scheduled: ScheduledJob, time: string) {
    const jobId = `scheduled-${digest(`${scheduled.name}\n${time}`)}`
    return this.submit(scheduled.tenant, scheduled.spec, { jobId })
  }

  /**
   * Speculative execution and launch recovery: for each running job whose stage has run
   * longer than `stragglerAfterMs`, send again every task of the stage not counted yet.
   * Effects are idempotent, so a task running twice is only wasted work. A stage swept
   * `sweepsMax` times fails the job (its tasks never complete).
   */
  async sweep(options: SweepOptions): Promise<SweepResult> {
    const { jobs, queue } = this.dependencies
    const nowMs = this.now()
    const result: SweepResult = { jobs: 0, reenqueued: 0, failed: [] }
    for (const summary of await jobs.runningJobs(
      nowMs - options.stragglerAfterMs,
      options.jobsMax,
    )) {
      const job = await jobs.get(summary.tenant, summary.jobId)
      if (!job || isTerminal(job.state)) continue
      result.jobs++
      const done = await jobs.doneTasks(job.tenant, job.jobId, job)
      const missing: TaskRef[] = []
      for (let task = 0; task < job.stageTotal; task++) {
        if (!done.has(task))
          missing.push({
            tenant: job.tenant,
            jobId: job.jobId,
            round: job.round,
            stage: job.stage,
            task,
          })
      }
      if (missing.length === 0) {
        // Every task counted but nobody advanced (a crash between count and advance): a
        // duplicate of one task re-runs the barrier.
        missing.push({
          tenant: job.tenant,
          jobId: job.jobId,
          round: job.round,
          stage: job.stage,
          task: 0,
        })
      }
      if (job.stageSweeps >= options.sweepsMax) {
        const reason = `tasks ${missing.map(taskId).join(', ')} did not complete after ${job.stageSweeps} re-sends`
        await jobs.fail(job.tenant, job.jobId, reason, nowMs).catch(ignoreConditionLost)
        result.failed.push(job.jobId)
        continue
      }
      await queue.send(missing)
      await jobs.recordSweep(job, missing.length, nowMs)
      result.reenqueued += missing.length
    }
    return result
  }

  /**
   * One task message from the map or reduce queue. A failure is recorded (retries
   * counter, last error) and rethrown, so SQS redelivers after the visibility timeout; on
   * the last attempt the job is failed with the reason first, and the message then goes
   * to the dead-letter queue.
   */
  async handleTaskMessage(message: {
    body: string
    receiveCount: number
    attemptsMax: number
  }): Promise<TaskOutcome> {
    const task = decodeTask(message.body)
    if (!task) return 'stopped'
    try {
      return await runTask(this.dependencies, task)
    } catch (error) {
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      const { jobs } = this.dependencies
      if (message.receiveCount >= message.attemptsMax) {
        const reason = `${task.stage} task ${task.task} of round ${task.round} failed ${message.receiveCount} times; last error: ${text}`
        await jobs.fail(task.tenant, task.jobId, reason, this.now()).catch(ignoreConditionLost)
      } else {
        await jobs.recordRetry(task, text, this.now())
      }
      throw error
    }
  }

  private async inputObjects(
    tenant: string,
    jobId: string,
    input: z.output<typeof jobSpecSchema>['input'],
    internal: SubmitInput | undefined,
  ): Promise<InputObject[]> {
    const { blobs } = this.dependencies
    if (internal) {
      const parsed = parseIncomingKey(internal.incomingKey)
      if (parsed?.tenant !== tenant)
        throw new JobSpecError(`${internal.incomingKey} is not an upload of ${tenant}`)
      return collect(
        blobs.list(internal.incomingKey),
        (object) => object.key === internal.incomingKey,
      )
    }
    if ('records' in input) {
      if (input.records.length === 0) return []
      const text = `${input.records.map((record) => (typeof record === 'string' ? record : JSON.stringify(record))).join('\n')}\n`
      const key = objectKeys.inlineInput(tenant, jobId)
      const bytes = Buffer.from(text)
      await blobs.put(key, bytes, 'text/plain')
      return [{ key, size: bytes.length }]
    }
    const prefix = `${objectKeys.tenantRoot(tenant)}${input.prefix}`
    return collect(blobs.list(prefix), () => true)
  }
}

export interface ScheduledJob {
  /** The schedule's name (the EventBridge rule); `job-<name>` in wiring. */
  name: string
  tenant: string
  spec: JobSpec
}

const taskMessage = z.object({
  v: z.literal(1),
  tenant: z.string().regex(tenantPattern),
  jobId: z.string().regex(jobIdPattern),
  round: z.number().int().min(0),
  stage: z.enum([Stage.map, Stage.reduce]),
  task: z.number().int().min(0),
})

/** A task message body, or undefined for one that can never run (dropped, not retried). */
export function decodeTask(body: string): TaskRef | undefined {
  try {
    const parsed = taskMessage.safeParse(JSON.parse(body))
    if (!parsed.success) return undefined
    const { v: _version, ...task } = parsed.data
    return task
  } catch {
    return undefined
  }
}

export function toView(job: JobRecord): JobView {
  return {
    id: job.jobId,
    job: job.name,
    state: job.state,
    round: job.round,
    stage: job.stage,
    tasks: { done: job.stageDone, total: job.stageTotal },
    mapTasks: job.mapTasks,
    partitions: job.partitions,
    counters: job.counters,
    cost: estimateCost(job.counters),
    ...(job.failure !== undefined && { failure: job.failure }),
    ...(job.lastError !== undefined && { lastError: job.lastError }),
    ...(job.model !== undefined && { model: job.model }),
    ...(job.state === JobState.succeeded && { output: { parts: job.outputParts ?? 0 } }),
    createdAt: new Date(job.createdAtMs).toISOString(),
    updatedAt: new Date(job.updatedAtMs).toISOString(),
  }
}

function assertTenant(tenant: string): void {
  if (!tenantPattern.test(tenant)) throw new JobSpecError(`tenant ${tenant} is not valid`)
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32)
}

async function collect(
  objects: AsyncIterable<InputObject>,
  keep: (object: InputObject) => boolean,
): Promise<InputObject[]> {
  const kept: InputObject[] = []
  for await (const object of objects) if (keep(object)) kept.push(object)
  return kept
}

function ignoreConditionLost(error: unknown): void {
  if (!(error instanceof JobConditionError)) throw error
}
