// One error hierarchy for MapReduce. Operating errors (a job that isn't running, a stage
// that moved on, a bad job spec) are typed and carry what the caller needs to decide;
// programmer errors are assertions and crash.
import type { JobRecord } from './job-model'

export class MapReduceError extends Error {
  override name = 'MapReduceError'
}

/** The job spec can't run: unknown job, bad parameters, bad input. Maps to HTTP 400. */
export class JobSpecError extends MapReduceError {
  override name = 'JobSpecError'
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

export class JobNotFoundError extends MapReduceError {
  override name = 'JobNotFoundError'
  constructor(
    readonly tenant: string,
    readonly jobId: string,
  ) {
    super(`job ${jobId} does not exist`)
  }
}

/** A job with this id exists already (an event delivered twice starts one job). */
export class JobExistsError extends MapReduceError {
  override name = 'JobExistsError'
  constructor(
    readonly current: JobRecord,
    options?: ErrorOptions,
  ) {
    super(`job ${current.jobId} exists already`, options)
  }
}

/** A conditional write on the job lost: it is no longer running, or its stage moved. */
export class JobConditionError extends MapReduceError {
  override name = 'JobConditionError'
  constructor(
    message: string,
    readonly current: JobRecord | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/** A listing cursor that this tenant's listing did not issue (malformed or foreign). Maps to HTTP 400. */
export class InvalidCursorError extends MapReduceError {
  override name = 'InvalidCursorError'
  constructor(options?: ErrorOptions) {
    super('the cursor is not one this listing issued', options)
  }
}

/** A line longer than the bound; splitting at line boundaries can't place it. */
export class LineTooLongError extends MapReduceError {
  override name = 'LineTooLongError'
  constructor(
    readonly key: string,
    readonly offset: number,
    readonly lineBytesMax: number,
  ) {
    super(`a line in ${key} starting at byte ${offset} is longer than ${lineBytesMax} bytes`)
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`)
}

/** The tenant runs as many jobs as its limit allows; a submit succeeds once one ends. */
export class TooManyRunningJobsError extends MapReduceError {
  override name = 'TooManyRunningJobsError'
  constructor(
    readonly tenant: string,
    readonly runningJobsMax: number,
  ) {
    super(`tenant ${tenant} already runs ${runningJobsMax} jobs, its limit`)
  }
}
