// The job as stored: lifecycle state, the current stage (round and map/reduce) with its
// task count and completion counter, counters and the iteration model. Pure helpers name
// stages, tasks and S3 objects deterministically, so every re-run of a task writes the
// same names.
import { assert } from './errors'

export const JobState = {
  running: 'RUNNING',
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  cancelled: 'CANCELLED',
} as const
export type JobState = (typeof JobState)[keyof typeof JobState]

export const jobStateTransitions: Record<JobState, readonly JobState[]> = {
  RUNNING: [JobState.succeeded, JobState.failed, JobState.cancelled],
  SUCCEEDED: [],
  FAILED: [],
  CANCELLED: [],
}

export function assertJobTransition(from: JobState, to: JobState): void {
  assert(jobStateTransitions[from].includes(to), `job state ${from} → ${to} is not allowed`)
}

export const Stage = { map: 'map', reduce: 'reduce' } as const
export type Stage = (typeof Stage)[keyof typeof Stage]

export interface StageRef {
  round: number
  stage: Stage
}

export interface TaskRef extends StageRef {
  tenant: string
  jobId: string
  task: number
}

export const counterNames = [
  'recordsIn',
  'bytesIn',
  'recordsOut',
  'bytesOut',
  'mapTasks',
  'reduceTasks',
  'retries',
  'speculativeTasks',
  'sqsRequests',
  's3GetRequests',
  's3PutRequests',
  'dynamodbReadUnits',
  'dynamodbWriteUnits',
  'invocationMs',
] as const
export type CounterName = (typeof counterNames)[number]
export type Counters = Record<CounterName, number>

export function zeroCounters(): Counters {
  return Object.fromEntries(counterNames.map((name) => [name, 0])) as Counters
}

export function addCounters(left: Counters, right: Partial<Counters>): Counters {
  const sum = { ...left }
  for (const name of counterNames) sum[name] += right[name] ?? 0
  return sum
}

export interface JobRecord {
  tenant: string
  jobId: string
  /** The registered job's name. */
  name: string
  params: unknown
  state: JobState
  round: number
  stage: Stage
  /** Tasks in the current stage, and how many completed (each counted once). */
  stageTotal: number
  stageDone: number
  /** Map tasks per round (fixed by the plan) and reduce partitions. */
  mapTasks: number
  partitions: number
  roundsMax: number
  /** The iteration's model, for iterative jobs. */
  model: unknown
  counters: Counters
  createdAtMs: number
  updatedAtMs: number
  stageStartedAtMs: number
  /** The task whose completion started the current stage; it re-sends the stage if it re-runs. */
  launchedBy?: string
  launchConfirmed: boolean
  /** Sweeps that re-enqueued tasks of the current stage (bounded). */
  stageSweeps: number
  failure?: string
  lastError?: string
  /** Output parts, once succeeded. */
  outputParts?: number
}

export function stageKey(ref: StageRef): string {
  return `r${String(ref.round).padStart(4, '0')}#${ref.stage}`
}

export function taskId(ref: StageRef & { task: number }): string {
  return `${stageKey(ref)}#${String(ref.task).padStart(5, '0')}`
}

export function isTerminal(state: JobState): boolean {
  return state !== JobState.running
}

/** S3 layout of a job, all under the tenant's prefix. */
export const objectKeys = {
  tenantRoot: (tenant: string) => `tenants/${tenant}/`,
  jobRoot: (tenant: string, jobId: string) => `tenants/${tenant}/jobs/${jobId}/`,
  plan: (tenant: string, jobId: string) => `${objectKeys.jobRoot(tenant, jobId)}plan.json`,
  inlineInput: (tenant: string, jobId: string) =>
    `${objectKeys.jobRoot(tenant, jobId)}input/records.txt`,
  intermediate: (tenant: string, jobId: string, round: number, task: number, partition: number) =>
    `${objectKeys.jobRoot(tenant, jobId)}${roundName(round)}/map-${pad5(task)}/part-${pad5(partition)}.json`,
  reduceOutput: (tenant: string, jobId: string, round: number, partition: number) =>
    `${objectKeys.jobRoot(tenant, jobId)}${roundName(round)}/reduce/part-${pad5(partition)}.ndjson`,
  output: (tenant: string, jobId: string, partition: number) =>
    `${objectKeys.jobRoot(tenant, jobId)}output/part-${pad5(partition)}.ndjson`,
  /** Uploads under this prefix start the job named by the next path segment. */
  incomingPrefix: 'incoming/',
  incoming: (tenant: string, jobName: string, file: string) =>
    `incoming/${tenant}/${jobName}/${file}`,
}

function roundName(round: number): string {
  return `r${String(round).padStart(4, '0')}`
}

function pad5(value: number): string {
  return String(value).padStart(5, '0')
}

export const tenantPattern = /^[a-z0-9][a-z0-9-]{0,62}$/
export const jobIdPattern = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,99}$/

/** `incoming/<tenant>/<job>/<file…>` → its parts, or undefined for any other key. */
export function parseIncomingKey(
  key: string,
): { tenant: string; jobName: string; file: string } | undefined {
  if (!key.startsWith(objectKeys.incomingPrefix)) return undefined
  const [tenant, jobName, ...rest] = key.slice(objectKeys.incomingPrefix.length).split('/')
  const file = rest.join('/')
  if (!tenant || !jobName || !file || !tenantPattern.test(tenant)) return undefined
  return { tenant, jobName, file }
}
