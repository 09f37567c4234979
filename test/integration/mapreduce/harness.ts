// Runs MapReduce end to end on the real engines for one test file: dedicated map/reduce
// queues (short visibility timeout, small maxReceiveCount) with their dead-letter
// queues, the local SQS event source emulation polling them, and invocation threads that
// run fault-handlers.ts. The threads read the dedicated queues through SST's Resource,
// as a deployed function reads its linked queues.
import { setTimeout as delay } from 'node:timers/promises'
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs'
import { sqsClient } from '@meridian/aws'
import {
  createOrUpdateQueue,
  type InvocationOutcome,
  repositoryRoot,
  SqsPoller,
  WorkerPool,
} from '@meridian/local'
import {
  isTerminal,
  JobService,
  type JobView,
  type MapReduceDependencies,
  type TaskOutcome,
} from '@meridian/mapreduce'
import { Resource } from 'sst'
import { type Fault, harnessDependencies } from './fault-handlers'

export interface Harness {
  service: JobService
  dependencies: MapReduceDependencies
  deadLetterDepth(): Promise<number>
  /** Outcomes of every task run the workers finished so far, in the order they finished. */
  taskOutcomes(): TaskOutcome[]
  /** Invocations whose instance died (process exit) and was replaced by a fresh one. */
  instancesReplaced(): number
  waitForJob(tenant: string, jobId: string, timeoutMs?: number): Promise<JobView>
  stop(): Promise<void>
}

type Linked = Record<string, { name?: string; url?: string }>

export async function startHarness(options: {
  fault: Fault
  attemptsMax?: number
  visibilityTimeoutSeconds?: number
}): Promise<Harness> {
  const attemptsMax = options.attemptsMax ?? 3
  const name = `mr-${options.fault}-${Date.now()}-${Math.random().toString(36).slice(2, 7)}`
  const sqs = sqsClient()
  const queues = await Promise.all(
    ['map', 'reduce'].map(async (stage) => {
      const deadLetter = await createOrUpdateQueue(sqs, `${name}-${stage}-dlq`, {})
      const queue = await createOrUpdateQueue(sqs, `${name}-${stage}`, {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 2),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: deadLetter.arn,
          maxReceiveCount: attemptsMax,
        }),
      })
      return { queue, deadLetter }
    }),
  )
  const [mapPair, reducePair] = queues as [(typeof queues)[0], (typeof queues)[0]]
  // The invocation threads copy the environment when they start.
  process.env.SST_RESOURCE_MapQueue = JSON.stringify({
    url: mapPair.queue.url,
    type: 'sst.aws.Queue',
  })
  process.env.SST_RESOURCE_ReduceQueue = JSON.stringify({
    url: reducePair.queue.url,
    type: 'sst.aws.Queue',
  })
  process.env.MERIDIAN_TEST_MAPREDUCE_FAULT = options.fault
  process.env.MERIDIAN_TEST_MAPREDUCE_ATTEMPTS_MAX = String(attemptsMax)
  const pool = new WorkerPool({ rootDirectory: repositoryRoot, size: 2 })
  const linked = Resource as unknown as Linked
  const dependencies = harnessDependencies(
    {
      tableName: linked.Coordination!.name!,
      bucketName: linked.DataBucket!.name!,
      mapQueueUrl: mapPair.queue.url,
      reduceQueueUrl: reducePair.queue.url,
    },
    // The test process only submits; the duplicate fault applies to its sends too.
    options.fault === 'duplicate' ? 'duplicate' : 'none',
  )
  const service = new JobService(dependencies)
  const invocations: InvocationOutcome[] = []
  const invoke: WorkerPool['invoke'] = async (...args) => {
    const outcome = await pool.invoke(...args)
    invocations.push(outcome)
    return outcome
  }
  const pollers = [mapPair, reducePair].map(
    ({ queue }) =>
      new SqsPoller({
        sqs,
        queueUrl: queue.url,
        queueArn: queue.arn,
        region: process.env.AWS_REGION ?? 'us-east-1',
        handler: 'test/integration/mapreduce/fault-handlers.handler',
        batchSize: 1,
        maximumConcurrency: 2,
        waitTimeSeconds: 1,
        invocation: { functionName: 'mapreduce-test-worker', timeoutMs: 20_000 },
        invoke,
      }),
  )
  for (const poller of pollers) poller.start()

  return {
    service,
    dependencies,
    async deadLetterDepth() {
      let count = 0
      for (const { deadLetter } of [mapPair, reducePair]) {
        const response = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: deadLetter.url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
        )
        count += response.Messages?.length ?? 0
      }
      return count
    },
    taskOutcomes() {
      return invocations.flatMap((outcome) =>
        outcome.ok ? (outcome.value as { taskOutcomes: TaskOutcome[] }).taskOutcomes : [],
      )
    },
    instancesReplaced() {
      return invocations.filter((outcome) => !outcome.ok && outcome.error.name === 'ExitError')
        .length
    },
    async waitForJob(tenant, jobId, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const job = await service.get(tenant, jobId)
        if (isTerminal(job.state) || Date.now() > deadline) return job
        await delay(50)
      }
    },
    async stop() {
      await Promise.all(pollers.map((poller) => poller.stop()))
      await pool.close()
    },
  }
}

/** Word count in one process, the reference every distributed run must equal. */
export async function readOutput(service: JobService, tenant: string, jobId: string) {
  const text = await new Response(await service.output(tenant, jobId)).text()
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as [string, unknown])
}
