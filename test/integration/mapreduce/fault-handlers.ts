// Task workers with injected faults, run by the local SQS event source emulation on the
// invocation threads exactly like functions/map-worker.ts. The fault comes from the
// environment the test sets before it starts the thread pool:
//   crash-after-output  the thread dies (process.exit) after a task wrote its outputs and
//                       before it completed (task 0 of each stage, first delivery)
//   duplicate           every task message is sent twice
//   poison              the `poison-word-count` job's map throws on the record "poison"
//   none                no fault
import { dynamoClient, s3Client, sqsClient } from '@meridian/aws'
import {
  awsMapReduceDependencies,
  builtinJobs,
  defineJob,
  JobService,
  type MapReduceDependencies,
  type TaskOutcome,
  type TaskQueue,
  wordCount,
} from '@meridian/mapreduce'
import type { Context, SQSEvent } from 'aws-lambda'
import { Resource } from 'sst'
import { z } from 'zod'
import { taskWorkerHandler } from '../../../functions/map-worker'

export type Fault = 'crash-after-output' | 'duplicate' | 'poison' | 'none'

export const poisonWordCount = defineJob<Record<string, never>, number, number>({
  ...wordCount,
  name: 'poison-word-count',
  params: z.object({}) as unknown as z.ZodType<Record<string, never>>,
  map(line, emit, context) {
    if (line === 'poison') throw new Error('this record poisons the task')
    wordCount.map(line, emit, context)
  },
})

export function testRegistry() {
  return builtinJobs().register(poisonWordCount)
}

/** Sends every message twice, as an at-least-once queue may. */
export function duplicatingQueue(queue: TaskQueue): TaskQueue {
  return {
    async send(tasks) {
      const [first, second] = await Promise.all([queue.send(tasks), queue.send(tasks)])
      return first + second
    },
  }
}

export function harnessDependencies(
  names: { tableName: string; bucketName: string; mapQueueUrl: string; reduceQueueUrl: string },
  fault: Fault,
  receiveCount: () => number = () => 1,
): MapReduceDependencies {
  const dependencies = awsMapReduceDependencies({
    dynamodb: dynamoClient(),
    sqs: sqsClient(),
    s3: s3Client(),
    ...names,
    registry: testRegistry(),
    ...(fault === 'crash-after-output' && {
      hooks: {
        // The first task of each stage, on its first delivery: enough to prove the point
        // without paying a thread restart for every task.
        afterOutputsWritten: (task: { task: number }) => {
          if (task.task === 0 && receiveCount() === 1) process.exit(1)
        },
      },
    }),
  })
  if (fault === 'duplicate') dependencies.queue = duplicatingQueue(dependencies.queue)
  return dependencies
}

type Linked = Record<string, { name?: string; url?: string }>
const linked = Resource as unknown as Linked

let receiveCount = 1
let service: JobService | undefined
/** What each task run of the current invocation came to, returned with its response. */
const taskOutcomes: TaskOutcome[] = []

/** The service, with every task message's outcome recorded (completed, duplicate, stopped). */
function recordingService(created: JobService): JobService {
  const handle = created.handleTaskMessage.bind(created)
  created.handleTaskMessage = async (message) => {
    const outcome = await handle(message)
    taskOutcomes.push(outcome)
    return outcome
  }
  return created
}

const worker = taskWorkerHandler(
  () => {
    service ??= recordingService(
      new JobService(
        harnessDependencies(
          {
            tableName: linked.Coordination!.name!,
            bucketName: linked.DataBucket!.name!,
            mapQueueUrl: linked.MapQueue!.url!,
            reduceQueueUrl: linked.ReduceQueue!.url!,
          },
          (process.env.MERIDIAN_TEST_MAPREDUCE_FAULT ?? 'none') as Fault,
          () => receiveCount,
        ),
      ),
    )
    return service
  },
  Number(process.env.MERIDIAN_TEST_MAPREDUCE_ATTEMPTS_MAX ?? 5),
)

export async function handler(event: SQSEvent, context: Context) {
  // Batches are of one record here, so the receive count is that record's.
  receiveCount = Number(event.Records[0]?.attributes.ApproximateReceiveCount ?? 1)
  taskOutcomes.length = 0
  const response = await worker(event, context)
  // The test reads these from the invocation's outcome: proof the fault was met and handled.
  return { ...response, taskOutcomes: [...taskOutcomes] }
}
