// `npm run bench -- api`: the HTTP API under load against the raw SDK at the same
// concurrency on the same engine, in one run. The local runtime (the `npm start` code,
// DynamoDB Local + fauxqs) serves the API in this process; autocannon drives it from a
// child process (16 connections, keep-alive), GET and PUT /kv/:key over 256 keys with a
// real API key. The raw side runs 16 concurrent loops of what a KV request needs at least:
// a strongly consistent GetItem, and a conditional UpdateItem that bumps a version, on
// items of the same size in a store table. DynamoDB HTTP requests are counted by SDK
// middleware on the API's clients (the coordination table's and every store region's) and
// the raw client alike (each attempt once).
//
// The network: in AWS, the API's Lambda and DynamoDB are separate machines a 1–5 ms round
// trip apart. Every DynamoDB request of both sides (the API's, the raw loops') goes through
// one TCP proxy (test/support/fault-proxy.ts, run in a child process so relaying is not
// the measured process's work) to DynamoDB Local: first with no added delay, then with a
// 5 ms round trip; the same measurement runs at each, and the last line carries the 0 ms
// figures under the keys and the 5 ms ones as `…AtRtt5`. At 0 ms the figure is
// mostly CPU on a shared 2-core machine: DynamoDB Local, the API, autocannon and the proxy
// take turns on the same cores, where in AWS each is its own machine; at 5 ms the round
// trips a request waits for weigh in, as they do in a region.
//
// Client topology: each side is one process talking to DynamoDB through the proxy. The
// API side's callers are autocannon in another process (its own machine in reality); the
// raw side's loops are the caller itself, in this process (a Lambda calling DynamoDB
// directly), so the API's extra work is the HTTP hop from its callers plus what it does
// per request. The raw loops run in the API's process (idle meanwhile), so they pay the
// same process-wide costs (the async hooks correlation ids install, the runtime's pollers).
//
// Fairness: both sides are warmed, then run in passes that alternate which goes first;
// each figure is the median over passes (the machine's two cores are shared). The rate
// limit is set high (MERIDIAN_RATE_LIMIT_PER_SECOND, 100,000 unless set) so it doesn't
// refuse the load, but its lease writes run and are counted. Prints the JSON line last:
// {"bench":"api","concurrency":16,"getPerSec":…,"rawGetPerSec":…,"getRatio":…,
//  "putPerSec":…,"rawPutPerSec":…,"putRatio":…,"dynamodbCallsPerGet":…,
//  "dynamodbCallsPerPut":…,"getP99Ms":…,"rawGetP99Ms":…,…,"rttMs":[0,5],
//  "getRatioAtRtt5":…,"putRatioAtRtt5":…,…}
import '@meridian/local/process-defaults'
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import {
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import { dynamoClient, stageConfig, storeClient, storeTableResource } from '@meridian/aws'
import { freePort, startLocalRuntime } from '@meridian/local'
import { countHttpRequests, newRequestCounter } from './support/count-requests'
import type { LoadJob, LoadResult } from './support/http-load'

process.env.MERIDIAN_RATE_LIMIT_PER_SECOND ??= '100000'
// One request log line per request would measure the terminal; keep warnings and errors.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN'

const concurrency = 16
const keysCount = 256
const passes = 3
const phaseSeconds = 5
const warmupSeconds = 3
const rttMs = 5
const value = 'v'.repeat(100)

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
const round = (number: number, digits = 1) => Math.round(number * 10 ** digits) / 10 ** digits

// The proxy first (DynamoDB Local isn't up yet: it connects per accepted connection).
const dynamodbPort = await freePort()
const proxy = fork(
  fileURLToPath(new URL('./support/proxy-process.ts', import.meta.url)),
  [String(dynamodbPort)],
  { execArgv: ['--import', 'tsx'] },
)
const proxyEndpoint = await new Promise<string>((resolve, reject) => {
  proxy.once('message', (message: { endpoint: string }) => resolve(message.endpoint))
  proxy.once('error', reject)
})
const setRoundTrip = (ms: number) =>
  new Promise<void>((resolve) => {
    proxy.once('message', () => resolve())
    proxy.send({ rttMs: ms })
  })
const runtime = await startLocalRuntime({
  port: 0,
  concurrency: 1,
  dynamodbPort,
  dynamodbClientEndpoint: proxyEndpoint,
})
// SST's Resource reads the environment once, at load: import it only once the runtime set it.
const { linkedName } = await import('@meridian/aws/linked')
const loader = fork(fileURLToPath(new URL('./support/http-load.ts', import.meta.url)), [], {
  execArgv: ['--import', 'tsx'],
})
try {
  // Every DynamoDB client the API uses, counted (the app made them at import): the
  // coordination table's (keys, rate-limit leases, ring) and each store region's.
  const apiCalls = newRequestCounter()
  for (const region of new Set([stageConfig.homeRegion, ...stageConfig.storeRegions]))
    countHttpRequests(dynamoClient(region), apiCalls)
  for (const region of stageConfig.storeRegions) countHttpRequests(storeClient(region), apiCalls)

  const admin = { authorization: `Bearer ${runtime.adminApiKey}` }
  const created = await fetch(`${runtime.url}/admin/keys`, {
    method: 'POST',
    headers: { ...admin, 'content-type': 'application/json' },
    body: JSON.stringify({ tenant: 'bench', scopes: ['kv:read', 'kv:write'], name: 'bench' }),
  })
  if (created.status !== 201) throw new Error(`creating the bench key: ${created.status}`)
  const { key } = (await created.json()) as { key: string }
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'text/plain' }
  for (let index = 0; index < keysCount; index++) {
    const put = await fetch(`${runtime.url}/kv/bench-${index}`, {
      method: 'PUT',
      headers,
      body: value,
    })
    if (put.status > 201) throw new Error(`seeding /kv/bench-${index}: ${put.status}`)
  }

  // The raw side: its own items in a store table, keyed by whatever that table's schema is.
  const rawCalls = newRequestCounter()
  const raw = new DynamoDBClient({ region: stageConfig.storeRegions[0], endpoint: proxyEndpoint })
  countHttpRequests(raw, rawCalls)
  const rawTable = linkedName(storeTableResource(stageConfig.storeRegions[0]!))
  const { Table } = await raw.send(new DescribeTableCommand({ TableName: rawTable }))
  const keySchema = Table?.KeySchema ?? []
  const rawKey = (index: number) =>
    Object.fromEntries(
      keySchema.map((part, position) => [
        part.AttributeName!,
        { S: position === 0 ? `raw-bench#bench-${index}` : 'item' },
      ]),
    )
  const rawGet = (index: number) =>
    raw.send(new GetItemCommand({ TableName: rawTable, Key: rawKey(index), ConsistentRead: true }))
  const rawPut = (index: number) =>
    raw.send(
      new UpdateItemCommand({
        TableName: rawTable,
        Key: rawKey(index),
        UpdateExpression: 'SET #value = :value, #version = if_not_exists(#version, :zero) + :one',
        ConditionExpression: 'attribute_not_exists(#intent)',
        ExpressionAttributeNames: { '#value': 'value', '#version': 'version', '#intent': 'intent' },
        ExpressionAttributeValues: {
          ':value': { B: new TextEncoder().encode(value) },
          ':zero': { N: '0' },
          ':one': { N: '1' },
        },
      }),
    )
  for (let index = 0; index < keysCount; index++) await rawPut(index)

  const load = (job: Omit<LoadJob, 'url' | 'connections' | 'pathPrefix' | 'pathCount'>) =>
    new Promise<LoadResult>((resolve, reject) => {
      loader.once('message', (message: { result?: LoadResult; error?: string }) =>
        message.result ? resolve(message.result) : reject(new Error(message.error)),
      )
      loader.send({
        ...job,
        url: runtime.url,
        connections: concurrency,
        pathPrefix: '/kv/bench-',
        pathCount: keysCount,
      } satisfies LoadJob)
    })

  interface Phase {
    perSec: number
    p99Ms: number
    dynamodbCalls: number
    requests: number
    /** This process's CPU time (user + system) per request: the API's, or the raw loops'. */
    cpuMicrosPerRequest: number
  }

  async function apiPhase(method: 'GET' | 'PUT', seconds: number): Promise<Phase> {
    apiCalls.reset()
    const cpuStarted = process.cpuUsage()
    const result = await load({
      method,
      headers,
      durationSeconds: seconds,
      ...(method === 'PUT' && { body: value }),
    })
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(
        `${method} through the API: ${result.non2xx} non-2xx, ${result.errors} errors`,
      )
    const cpu = process.cpuUsage(cpuStarted)
    return {
      perSec: result.ok / result.durationSeconds,
      p99Ms: result.p99Ms,
      dynamodbCalls: apiCalls.total(),
      requests: result.ok,
      cpuMicrosPerRequest: (cpu.user + cpu.system) / result.ok,
    }
  }

  async function rawPhase(
    call: (index: number) => Promise<unknown>,
    seconds: number,
  ): Promise<Phase> {
    rawCalls.reset()
    const cpuStarted = process.cpuUsage()
    const latencies: number[] = []
    let next = 0
    const started = performance.now()
    const endsAt = started + seconds * 1000
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < endsAt) {
          const sent = performance.now()
          await call(next++ % keysCount)
          latencies.push(performance.now() - sent)
        }
      }),
    )
    const elapsedSeconds = (performance.now() - started) / 1000
    const cpu = process.cpuUsage(cpuStarted)
    latencies.sort((a, b) => a - b)
    return {
      perSec: latencies.length / elapsedSeconds,
      p99Ms: latencies[Math.ceil(latencies.length * 0.99) - 1]!,
      dynamodbCalls: rawCalls.total(),
      requests: latencies.length,
      cpuMicrosPerRequest: (cpu.user + cpu.system) / latencies.length,
    }
  }

  const perSec = (phases: Phase[]) => median(phases.map((phase) => phase.perSec))
  const p99 = (phases: Phase[]) => median(phases.map((phase) => phase.p99Ms))
  const cpuPer = (phases: Phase[]) =>
    Math.round(median(phases.map((phase) => phase.cpuMicrosPerRequest)))
  // Calls per request over every measured pass together (amortizes lease and ring refreshes).
  const callsPer = (phases: Phase[]) =>
    phases.reduce((sum, phase) => sum + phase.dynamodbCalls, 0) /
    phases.reduce((sum, phase) => sum + phase.requests, 0)

  /** Warm-up, then alternating passes of both sides; the figures at the proxy's current delay. */
  async function measure(roundTripMs: number) {
    // Warm both sides (JIT, connections, caches, the first lease of rate-limit tokens).
    await apiPhase('GET', warmupSeconds)
    await rawPhase(rawGet, warmupSeconds)
    await apiPhase('PUT', warmupSeconds)
    await rawPhase(rawPut, warmupSeconds)
    const samples = {
      apiGet: [] as Phase[],
      rawGet: [] as Phase[],
      apiPut: [] as Phase[],
      rawPut: [] as Phase[],
    }
    for (let pass = 0; pass < passes; pass++) {
      if (pass % 2 === 0) {
        samples.apiGet.push(await apiPhase('GET', phaseSeconds))
        samples.rawGet.push(await rawPhase(rawGet, phaseSeconds))
        samples.apiPut.push(await apiPhase('PUT', phaseSeconds))
        samples.rawPut.push(await rawPhase(rawPut, phaseSeconds))
      } else {
        samples.rawGet.push(await rawPhase(rawGet, phaseSeconds))
        samples.apiGet.push(await apiPhase('GET', phaseSeconds))
        samples.rawPut.push(await rawPhase(rawPut, phaseSeconds))
        samples.apiPut.push(await apiPhase('PUT', phaseSeconds))
      }
    }
    console.log(
      `rtt ${roundTripMs} ms, per pass: API GET ${samples.apiGet.map((p) => round(p.perSec)).join(' ')}, raw GET ${samples.rawGet.map((p) => round(p.perSec)).join(' ')}, API PUT ${samples.apiPut.map((p) => round(p.perSec)).join(' ')}, raw PUT ${samples.rawPut.map((p) => round(p.perSec)).join(' ')} (req/s); raw calls per request ${round(callsPer(samples.rawGet), 3)}/${round(callsPer(samples.rawPut), 3)}; rate limit ${process.env.MERIDIAN_RATE_LIMIT_PER_SECOND}/s per key`,
    )
    console.log(
      `rtt ${roundTripMs} ms, CPU of the measured process per request (median): API GET ${cpuPer(samples.apiGet)} µs, raw GET ${cpuPer(samples.rawGet)} µs, API PUT ${cpuPer(samples.apiPut)} µs, raw PUT ${cpuPer(samples.rawPut)} µs`,
    )
    return {
      getPerSec: round(perSec(samples.apiGet)),
      rawGetPerSec: round(perSec(samples.rawGet)),
      getRatio: round(perSec(samples.apiGet) / perSec(samples.rawGet), 2),
      putPerSec: round(perSec(samples.apiPut)),
      rawPutPerSec: round(perSec(samples.rawPut)),
      putRatio: round(perSec(samples.apiPut) / perSec(samples.rawPut), 2),
      dynamodbCallsPerGet: round(callsPer(samples.apiGet), 3),
      dynamodbCallsPerPut: round(callsPer(samples.apiPut), 3),
      getP99Ms: round(p99(samples.apiGet)),
      rawGetP99Ms: round(p99(samples.rawGet)),
      putP99Ms: round(p99(samples.apiPut)),
      rawPutP99Ms: round(p99(samples.rawPut)),
    }
  }

  const atRtt0 = await measure(0)
  await setRoundTrip(rttMs)
  const atRtt5 = await measure(rttMs)
  const suffixed = Object.fromEntries(
    Object.entries(atRtt5).map(([name, figure]) => [`${name}AtRtt${rttMs}`, figure]),
  )
  console.log(
    JSON.stringify({
      bench: 'api',
      concurrency,
      ...atRtt0,
      replicas: Number(process.env.MERIDIAN_KV_REPLICAS ?? 1),
      writeQuorum: Number(process.env.MERIDIAN_KV_WRITE_QUORUM ?? 1),
      rttMs: [0, rttMs],
      ...suffixed,
    }),
  )
} finally {
  loader.disconnect()
  await runtime.stop()
  proxy.disconnect()
}
