// `npm run bench -- lock`: Meridian's lock against the npm dynamodb-lock-client (0.7.3,
// FailOpen, same lease) on the same DynamoDB Local, in one run. Measures uncontended
// acquire+release cycles per second, DynamoDB HTTP requests per cycle, and the hand-off
// latency from a release being sent to the waiting contender's acquire. Both clients
// reach DynamoDB Local through the same fault proxy (test/support/fault-proxy.ts), first
// with no added delay, then with a 5 ms round trip per request, as a call to DynamoDB in
// the same region costs: there the calls per cycle (2 against 3) decide the rate, where on
// a bare local engine client and emulator CPU do. Prints the JSON line last: the main
// figures at 0 ms, and `ratioAtRtt5`.
//
// Fairness: both clients get the same warm-up (200 cycles each, before any measurement),
// use the same engine, proxy, lease and keep-alive agent, and run the same number of
// sequential cycles in passes whose order alternates; each side's rate is the median over
// passes, since other processes share the machine's two cores. Requests are counted alike
// on both sides: once per HTTP attempt (v3: middleware inside the retry loop; v2: the
// 'send' event), so a retry counts on either side.
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
import { FaultProxy } from '../test/support/fault-proxy'
import { countHttpRequests, newRequestCounter } from './support/count-requests'

const require = createRequire(import.meta.url)
const AWS = require('aws-sdk')
const DynamoDBLockClient = require('dynamodb-lock-client')

const leaseMs = 10_000
const passes = 20
const passesAtRtt5 = 10
const cyclesPerPass = 20
const rttMs = 5
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
const proxy = await FaultProxy.start({ target: engines.dynamodbEndpoint })
try {
  const resources = await bootstrapResources({ stage: 'bench', region, endpoints: engines })
  const coordinationName = resources.tables.get(coordinationTable)!

  // Meridian: v3 client, every HTTP attempt counted.
  const meridianCalls = newRequestCounter()
  // Keep-alive connections, as Lambda's runtime uses; both clients get the same agent setup.
  const client = new DynamoDBClient({
    endpoint: proxy.endpoint,
    region,
    credentials,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true }) }),
  })
  countHttpRequests(client, meridianCalls)
  const locks = new LockService({ table: new DynamoLockTable(client, coordinationName) })
  const tenant = 'bench'

  // Warm up both paths (first create, JIT), then measure. The v3 SDK's call path takes a
  // few hundred calls to reach steady speed under the JIT; 20 cycles left it cold.
  for (let i = 0; i < warmupCycles; i++) {
    const lease = await locks.acquire(tenant, 'warm', { leaseMs })
    await locks.release(tenant, 'warm', lease)
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
    endpoint: proxy.endpoint,
    region,
    credentials,
    httpOptions: { agent: new Agent({ keepAlive: true }) },
  })
  const baselineCalls = newRequestCounter()
  // v2's request lifecycle: 'send' fires once per HTTP request (attempt) the SDK makes.
  AWS.events.on('send', () => {
    baselineCalls.byCommand.set('send', (baselineCalls.byCommand.get('send') ?? 0) + 1)
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
  async function measure(passesCount: number) {
    const meridianRates: number[] = []
    const baselineRates: number[] = []
    meridianCalls.reset()
    baselineCalls.reset()
    for (let pass = 0; pass < passesCount; pass++) {
      if (pass % 2 === 0) {
        meridianRates.push(await timeCycles(meridianCycle))
        baselineRates.push(await timeCycles(() => baselineCycle('cycle')))
      } else {
        baselineRates.push(await timeCycles(() => baselineCycle('cycle')))
        meridianRates.push(await timeCycles(meridianCycle))
      }
    }
    const cycles = passesCount * cyclesPerPass
    return {
      cyclesPerSec: median(meridianRates),
      baselineCyclesPerSec: median(baselineRates),
      callsPerCycle: meridianCalls.total() / cycles,
      baselineCallsPerCycle: baselineCalls.total() / cycles,
      pairedRatios: meridianRates.map((rate, pass) => rate / baselineRates[pass]!),
    }
  }

  const atRtt0 = await measure(passes)

  // Hand-off, after both sides had the same warm-up: a waiter polls while the holder
  // works; time from the moment the release is sent to the waiter's acquire.
  const handoffs: number[] = []
  for (let i = 0; i < handoffSamples; i++) {
    const holder = await locks.acquire(tenant, 'handoff', { leaseMs })
    const waiter = locks
      .acquire(tenant, 'handoff', { leaseMs, waitMs: 10_000 })
      .then((lease) => ({ lease, at: performance.now() }))
    await new Promise((resolve) => setTimeout(resolve, 30 + Math.random() * 70))
    const releaseSentAt = performance.now()
    await locks.release(tenant, 'handoff', holder)
    const { lease, at } = await waiter
    handoffs.push(at - releaseSentAt)
    await locks.release(tenant, 'handoff', lease)
  }

  proxy.setRoundTrip(rttMs)
  const atRtt5 = await measure(passesAtRtt5)
  client.destroy()

  const { cyclesPerSec, baselineCyclesPerSec, callsPerCycle, baselineCallsPerCycle } = atRtt0
  const perPass = (ratios: number[]) => ratios.map((ratio) => round(ratio)).join(' ')
  console.log(
    `rtt 0 ms: meridian ${round(cyclesPerSec)} cycles/s, ${callsPerCycle} requests/cycle; dynamodb-lock-client ${round(baselineCyclesPerSec)} cycles/s, ${baselineCallsPerCycle} requests/cycle; per-pass ratios ${perPass(atRtt0.pairedRatios)}; hand-off p50 ${round(percentile(handoffs, 50))} ms`,
  )
  console.log(
    `rtt ${rttMs} ms: meridian ${round(atRtt5.cyclesPerSec)} cycles/s, ${atRtt5.callsPerCycle} requests/cycle; dynamodb-lock-client ${round(atRtt5.baselineCyclesPerSec)} cycles/s, ${atRtt5.baselineCallsPerCycle} requests/cycle; per-pass ratios ${perPass(atRtt5.pairedRatios)}`,
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
      rttMs: [0, rttMs],
      cyclesPerSecAtRtt5: round(atRtt5.cyclesPerSec),
      baselineCyclesPerSecAtRtt5: round(atRtt5.baselineCyclesPerSec),
      ratioAtRtt5: round(atRtt5.cyclesPerSec / atRtt5.baselineCyclesPerSec, 3),
      callsPerCycleAtRtt5: atRtt5.callsPerCycle,
      baselineCallsPerCycleAtRtt5: atRtt5.baselineCallsPerCycle,
    }),
  )
} finally {
  await proxy.close()
  await engines.stop()
}
