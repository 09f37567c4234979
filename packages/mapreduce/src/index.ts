/**
 * MapReduce without a driver: jobs defined in code (`defineJob`, a registry, built-in word
 * count, inverted index and gradient-descent linear regression), planned into map tasks
 * at line boundaries, fanned out through SQS with task manifests in S3, intermediate
 * data partitioned by key hash into deterministically named S3 objects, and stage
 * transitions made by conditional writes in DynamoDB: each task is counted once, and
 * the task that completes a stage starts the next. Iterative jobs run one round per
 * map/reduce pass. A sweeper re-sends stragglers; cancellation stops tasks at their next
 * check; counters feed a cost estimate.
 */
export { type AwsMapReduceOptions, awsMapReduceDependencies } from './aws-dependencies'
export {
  builtinJobs,
  forEachWord,
  invertedIndex,
  type LinearRegressionModel,
  type LinearRegressionParams,
  linearRegression,
  parseRow,
  wordCount,
} from './builtin-jobs'
export { type CostEstimate, estimateCost, priceAssumptions } from './cost'
export { DynamoDbJobSlotStore } from './dynamodb-job-slots'
export { DynamoDbJobStore } from './dynamodb-job-store'
export {
  InvalidCursorError,
  JobConditionError,
  JobExistsError,
  JobNotFoundError,
  JobSpecError,
  LineTooLongError,
  MapReduceError,
  TooManyRunningJobsError,
} from './errors'
export {
  type AnyJobDefinition,
  defineJob,
  type JobDefinition,
  JobRegistry,
  type JsonValue,
  type MapContext,
  type ReduceContext,
} from './job-definition'
export {
  type Counters,
  isTerminal,
  type JobRecord,
  JobState,
  jobStateTransitions,
  objectKeys,
  parseIncomingKey,
  Stage,
  stageKey,
  type TaskRef,
  taskId,
} from './job-model'
export {
  decodeTask,
  JobService,
  type JobServiceOptions,
  type JobSpec,
  type JobView,
  jobSpecSchema,
  type ScheduledJob,
  type SubmitInput,
  type SweepOptions,
  type SweepResult,
  toView,
} from './job-service'
export { fetchStart, ownedLines, recordsOf } from './line-splits'
export { fnv1a, hashPartition } from './partitioner'
export { type InputObject, type MapTaskPlan, planMapTasks, type Segment } from './planner'
export type { BlobStore, JobListQuery, JobPage, JobStore, TaskQueue } from './ports'
export {
  claimRunningJobSlot,
  type HeldSlot,
  type JobSlotStore,
  type RunningJobLimit,
  type SlotClaim,
  slotCreationGraceMsDefault,
} from './running-job-limit'
export { S3BlobStore } from './s3-blob-store'
export { encodeTask, SqsTaskQueue } from './sqs-task-queue'
export {
  type MapReduceDependencies,
  runTask,
  type TaskHooks,
  type TaskOutcome,
} from './task-runner'
