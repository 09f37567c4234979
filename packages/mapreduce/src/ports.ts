// The I/O MapReduce needs, as small interfaces with one AWS adapter each: the job store
// (DynamoDB coordination table), the task queue (SQS map and reduce queues) and the blob
// store (S3 data bucket). Runners and the service depend on these only.
import type { Counters, JobRecord, JobState, StageRef, TaskRef } from './job-model'

export interface BlobStore {
  /** Stores an object; `metadata` becomes its user metadata (x-amz-meta-<name>). */
  put(
    key: string,
    body: string | Uint8Array,
    contentType?: string,
    metadata?: Record<string, string>,
  ): Promise<void>
  /** The object's ETag (unquoted) and user metadata, or undefined when it doesn't exist. */
  head(key: string): Promise<{ eTag: string; metadata: Record<string, string> } | undefined>
  /** The whole object, or undefined when it doesn't exist. */
  get(key: string): Promise<Uint8Array | undefined>
  /** Bytes [start, end) of an object (end is clamped to its size). */
  getRange(key: string, start: number, end: number): Promise<Uint8Array>
  /** Every object under a prefix, following continuation tokens to the end. */
  list(prefix: string): AsyncIterable<{ key: string; size: number }>
  /** The object as a stream, for serving outputs without buffering them. */
  stream(key: string): Promise<ReadableStream<Uint8Array> | undefined>
}

export interface TaskQueue {
  /** Sends task references (never data); returns the number of SQS requests made. */
  send(tasks: readonly TaskRef[]): Promise<number>
}

export type CompletionOutcome = 'counted' | 'duplicate'

export interface NextStage extends StageRef {
  total: number
  model?: unknown
  launchedBy: string
}

export interface RunningJobSummary {
  tenant: string
  jobId: string
  stageStartedAtMs: number
}

export interface JobListQuery {
  /** Jobs per page, at most. */
  limit: number
  /** Where the previous page ended (its nextCursor); absent for the first page. */
  cursor?: string
  /** Only jobs in this state. */
  state?: JobState
}

export interface JobPage {
  /** Newest first. */
  jobs: JobRecord[]
  /** Opaque; null once the listing is exhausted. */
  nextCursor: string | null
}

export interface JobStore {
  /** Creates the job; JobExistsError if the id is taken. */
  create(job: JobRecord): Promise<void>
  get(tenant: string, jobId: string): Promise<JobRecord | undefined>
  /** Whether a task of the job's stage was counted already. */
  isTaskDone(task: TaskRef): Promise<boolean>
  /** Tasks of a stage counted so far. */
  doneTasks(tenant: string, jobId: string, stage: StageRef): Promise<Set<number>>
  /**
   * Counts a task once: its done marker and the stage counter change in one
   * transaction. 'duplicate' when it was counted before; JobConditionError when the job
   * is no longer running that stage.
   */
  completeTask(
    task: TaskRef,
    counters: Partial<Counters>,
    nowMs: number,
  ): Promise<CompletionOutcome>
  /** Moves a running job whose stage is complete to the next stage; JobConditionError if it lost. */
  advanceStage(job: JobRecord, next: NextStage, nowMs: number): Promise<JobRecord>
  /** Ends a running job whose final stage is complete. */
  succeed(job: JobRecord, outputParts: number, model: unknown, nowMs: number): Promise<JobRecord>
  confirmLaunch(job: JobRecord): Promise<void>
  /** Marks a running job failed with a reason; JobConditionError if it wasn't running. */
  fail(tenant: string, jobId: string, reason: string, nowMs: number): Promise<JobRecord>
  cancel(tenant: string, jobId: string, nowMs: number): Promise<JobRecord>
  recordRetry(task: TaskRef, error: string, nowMs: number): Promise<void>
  /** Records a sweep of the current stage and pushes its next sweep back. */
  recordSweep(job: JobRecord, reenqueued: number, nowMs: number): Promise<void>
  /** The tenant's jobs, newest first, a page at a time; InvalidCursorError for a cursor it didn't issue. */
  list(tenant: string, query: JobListQuery): Promise<JobPage>
  /** Running jobs whose current stage started before `startedBeforeMs`, oldest first. */
  runningJobs(startedBeforeMs: number, limit: number): Promise<RunningJobSummary[]>
}
