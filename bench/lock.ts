// `npm run bench -- lock`: Meridian's lock against the npm dynamodb-lock-client (0.7.3,
// FailOpen, same lease) on the same DynamoDB Local, in one run. Measures uncontended
// acquire+release cycles per second, DynamoDB calls per cycle (counted by SDK middleware
// on v3 and a request listener on v2), and the hand-off latency from a release to the
// waiting contender's acquire. Prints the JSON line last.
//
// Fairness: both clients are warmed, use the same engine, lease and keep-alive agent, and
// run the same number of sequential cycles in passes whose order alternates; each side's
// rate is the median over passes, since other processes share the machine's two cores.
// The process runs with the local runtime's defaults (imported first): without them the
// X-Ray SDK, loaded by Powertools, installs async hooks that tax every promise, which cost
// the promise-based v3 SDK about twice its CPU per call (the callback-based baseline less)
// although nothing here traces.
import '@meridian/local/process-defaults'
import { Agent } from 'node:http'
import { createRequire } from 'node:module'
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { coordinationTable, stageConfig } from '@meridian/aws'
import { bootstrapResources, startLocalEngines } from '@meridian/local'
import { DynamoLockTable, LockService } from '@meridian/lock'
import { NodeHttpHandler } from '@smithy/node-http-handler'

const require = createRequire(import.meta.url)
const AWS = require('aws-sdk')
const DynamoDBLockClient = require('dynamodb-lock-client')

const leaseMs = 10_000
const passes = 20
const cyclesPerPass = 20
const warmupCycles = 200
const handoffSamples = 40
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' }
const region = stageConfig.homeRegion

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits

const engines = await startLocalEngines({ region })
try {
  const resources = await bootstrapResources({ stage: 'bench', region, endpoints: engines })
  const coordinationName = resources.tables.get(coordinationTable)!

  // Meridian: v3 client, every command counted once by an initialize-step middleware.
  let meridianCalls = 0
  // Keep-alive connections, as Lambda's runtime uses; both clients get the same agent setup.
  const client = new DynamoDBClient({
    endpoint: engines.dynamodbEndpoint,
    region,
    credentials,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true }) }),
  })
  client.middlewareStack.add(
    (next) => (args) => {
      meridianCalls++
      return next(args)
    },
    { step: 'initialize', name: 'countCalls' },
  )
  const locks = new LockService({ table: new DynamoLockTable(client, coordinationName) })
  const tenant = 'bench'

  // Warm up both paths (first create, JIT), then measure. The v3 SDK's call path takes a
  // few hundred calls to reach steady speed under the JIT; 20 cycles left it cold.
  for (let i = 0; i < warmupCycles; i++) {
    const lease = await locks.acquire(tenant, 'warm', { leaseMs })
    await locks.release(tenant, 'warm', lease)
  }
  // Hand-off: a waiter polls while the holder works; time from release done to acquired.
  const handoffs: number[] = []
  for (let i = 0; i < handoffSamples; i++) {
    const holder = await locks.acquire(tenant, 'handoff', { leaseMs })
    let releasedAt = 0
    const waiter = locks
      .acquire(tenant, 'handoff', { leaseMs, waitMs: 10_000 })
      .then((lease) => ({ lease, at: performance.now() }))
    await new Promise((resolve) => setTimeout(resolve, 30 + Math.random() * 70))
    await locks.release(tenant, 'handoff', holder)
    releasedAt = performance.now()
    const { lease, at } = await waiter
    handoffs.push(Math.max(0, at - releasedAt))
    await locks.release(tenant, 'handoff', lease)
  }

  // Baseline: aws-sdk v2 DocumentClient, its own table keyed by its partition key.
  const baselineTable = 'bench-dynamodb-lock-client'
  await client.send(
    new CreateTableCommand({
      TableName: baselineTable,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  )
  const rawV2 = new AWS.DynamoDB({
    endpoint: engines.dynamodbEndpoint,
    region,
    credentials,
    httpOptions: { agent: new Agent({ keepAlive: true }) },
  })
  let baselineCalls = 0
  // v2's request lifecycle: 'send' fires once per HTTP request the SDK makes.
  AWS.events.on('send', () => {
    baselineCalls++
  })
  const documentClient = new AWS.DynamoDB.DocumentClient({ service: rawV2 })
  const baseline = new DynamoDBLockClient.FailOpen({
    dynamodb: documentClient,
    lockTable: baselineTable,
    partitionKey: 'id',
    leaseDurationMs: leaseMs,
  })
  const baselineCycle = (id: string) =>
    new Promise<void>((resolve, reject) => {
      baseline.acquireLock(
        id,
        (error: unknown, lock: { release(cb: (e: unknown) => void): void }) => {
          if (error) return reject(error)
          lock.release((releaseError) => (releaseError ? reject(releaseError) : resolve()))
        },
      )
    })
  for (let i = 0; i < warmupCycles; i++) await baselineCycle('warm')
  const meridianCycle = async () => {
    const lease = await locks.acquire(tenant, 'cycle', { leaseMs })
    await locks.release(tenant, 'cycle', lease)
  }
  await meridianCycle()
  await baselineCycle('cycle')
  // Passes of both, alternating which goes first, so load from anything else on the
  // machine and any drift within a pass hit both alike.
  const timeCycles = async (cycle: () => Promise<void>) => {
    const started = performance.now()
    for (let i = 0; i < cyclesPerPass; i++) await cycle()
    return cyclesPerPass / ((performance.now() - started) / 1000)
  }
  const meridianRates: number[] = []
  const baselineRates: number[] = []
  meridianCalls = 0
  baselineCalls = 0
  for (let pass = 0; pass < passes; pass++) {
    if (pass % 2 === 0) {
      meridianRates.push(await timeCycles(meridianCycle))
      baselineRates.push(await timeCycles(() => baselineCycle('cycle')))
    } else {
      baselineRates.push(await timeCycles(() => baselineCycle('cycle')))
      meridianRates.push(await timeCycles(meridianCycle))
    }
  }
  const cycles = passes * cyclesPerPass
  const callsPerCycle = meridianCalls / cycles
  const baselineCallsPerCycle = baselineCalls / cycles
  client.destroy()

  const cyclesPerSec = median(meridianRates)
  const baselineCyclesPerSec = median(baselineRates)
  const pairedRatios = meridianRates.map((rate, pass) => rate / baselineRates[pass]!)
  console.log(
    `meridian: ${round(cyclesPerSec)} cycles/s, ${callsPerCycle} calls/cycle; dynamodb-lock-client: ${round(baselineCyclesPerSec)} cycles/s, ${baselineCallsPerCycle} calls/cycle; per-pass ratios ${pairedRatios.map((ratio) => round(ratio)).join(' ')}; hand-off p50 ${round(percentile(handoffs, 50))} ms`,
  )
  console.log(
    JSON.stringify({
      bench: 'lock',
      cyclesPerSec: round(cyclesPerSec),
      baselineCyclesPerSec: round(baselineCyclesPerSec),
      ratio: round(cyclesPerSec / baselineCyclesPerSec, 3),
      callsPerCycle,
      baselineCallsPerCycle,
      handoffP95Ms: round(percentile(handoffs, 95)),
    }),
  )
} finally {
  await engines.stop()
}
