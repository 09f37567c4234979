// `npm run bench -- failover`: a region blackholed and healed under load, on the local
// runtime (the `npm start` code: DynamoDB Local, fauxqs, the API) with R = 3, W = 2. One
// store region's DynamoDB traffic goes through a fault proxy (MERIDIAN_STORE_ENDPOINTS);
// 8 closed-loop HTTP clients each PUT and GET their own keys (one writer per key, so the
// last acknowledged value of a key is exact): WARMUP_SECONDS (3) not measured, then
// HEALTHY_SECONDS (5), then the region is
// blackholed for FAULT_SECONDS (10), then healed, and the load runs AFTER_SECONDS (5) more.
// Then anti-entropy rounds (packages/store anti-entropy.ts, the replica-repair schedule's
// work, run here at once instead of every 10 minutes) until the three tables are equal
// item by item. Checks every answer: a read must return the last acknowledged value of its
// key, and after the run every key reads as its last acknowledged write.
//
// Figures: writesAcked; writesLost (keys whose last acknowledged write is gone at the end,
// plus reads that returned an older value); unavailableMs (the longest stretch with no
// successful write); p99 of an operation (a PUT or a GET over HTTP) started while healthy
// and while the region was blackholed; convergeSeconds from the heal until the tables are
// equal (the after-phase's load included); keysRepaired by those rounds. Store calls time
// out after MERIDIAN_STORE_TIMEOUT_MS (500 here; AWS default 1000). Prints the JSON last.
import '@meridian/local/process-defaults'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { FaultProxy } from '../test/support/fault-proxy'

const warmupSeconds = Number(process.env.WARMUP_SECONDS ?? 3)
const healthySeconds = Number(process.env.HEALTHY_SECONDS ?? 5)
const faultSeconds = Number(process.env.FAULT_SECONDS ?? 10)
const afterSeconds = Number(process.env.AFTER_SECONDS ?? 5)
const clients = 8
const keysPerClient = 200

const round = (number: number, digits = 1) => Math.round(number * 10 ** digits) / 10 ** digits
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const { freePort } = await import('@meridian/local')
const dynamodbPort = await freePort()
const proxy = await FaultProxy.start({ target: dynamodbPort })
const { stageConfig } = await import('@meridian/aws')
const regions = stageConfig.storeRegions
const failing = regions[1]!
process.env.MERIDIAN_KV_REPLICAS = '3'
process.env.MERIDIAN_KV_WRITE_QUORUM = '2'
process.env.MERIDIAN_STORE_TIMEOUT_MS ??= '500'
process.env.MERIDIAN_STORE_ENDPOINTS = `${failing}=${proxy.endpoint}`
process.env.MERIDIAN_RATE_LIMIT_PER_SECOND ??= '100000'
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR'
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true'

const { startLocalRuntime } = await import('@meridian/local')
const runtime = await startLocalRuntime({ port: 0, concurrency: 1, dynamodbPort })
const { linkedName } = await import('@meridian/aws/linked')
const store = await import('@meridian/store')
const aws = await import('@meridian/aws')
try {
  const headers = { authorization: `Bearer ${runtime.adminApiKey}` }
  // Measured phases start after the warm-up (JIT, connections, caches).
  const t0 = performance.now() + warmupSeconds * 1000
  const phaseOf = (at: number) =>
    at < 0
      ? 'warmup'
      : at < healthySeconds * 1000
        ? 'healthy'
        : at < (healthySeconds + faultSeconds) * 1000
          ? 'fault'
          : 'after'
  const latencies = {
    warmup: [] as number[],
    healthy: [] as number[],
    fault: [] as number[],
    after: [] as number[],
  }
  const writeTimes: number[] = []
  const acknowledged = new Map<string, string>()
  let writesAcked = 0
  let failedOps = 0
  let staleReads = 0
  let stop = false

  const workload = Array.from({ length: clients }, async (_, client) => {
    const keys = Array.from({ length: keysPerClient }, (_, index) => `failover-${client}-${index}`)
    for (let step = 0; !stop; step++) {
      const key = keys[step % keys.length]!
      const value = `${client}.${step}`
      let started = performance.now()
      const put = await fetch(`${runtime.url}/kv/${key}`, { method: 'PUT', headers, body: value })
        .then(async (response) => {
          await response.arrayBuffer()
          return response.ok
        })
        .catch(() => false)
      let ended = performance.now()
      latencies[phaseOf(started - t0)].push(ended - started)
      if (put) {
        writesAcked++
        acknowledged.set(key, value)
        writeTimes.push(ended - t0)
      } else failedOps++
      const readKey = keys[(step * 7 + 3) % keys.length]!
      const expected = acknowledged.get(readKey)
      started = performance.now()
      const read = await fetch(`${runtime.url}/kv/${readKey}`, { headers })
        .then(async (response) => (response.ok ? await response.text() : undefined))
        .catch(() => undefined)
      ended = performance.now()
      latencies[phaseOf(started - t0)].push(ended - started)
      if (read === undefined) {
        if (expected !== undefined) failedOps++
      } else if (expected !== undefined && read !== expected) staleReads++
    }
  })

  await sleep((warmupSeconds + healthySeconds) * 1000)
  proxy.setMode('blackhole')
  console.log(`blackholed ${failing} at ${round((performance.now() - t0) / 1000)} s`)
  await sleep(faultSeconds * 1000)
  proxy.setMode('forward')
  const healedAt = performance.now()
  console.log(`healed ${failing} at ${round((healedAt - t0) / 1000)} s`)
  await sleep(afterSeconds * 1000)
  stop = true
  await Promise.all(workload)
  const endedAt = performance.now() - t0

  // Anti-entropy over direct clients to each region's table, on the runtime's own ring.
  const direct = Object.fromEntries(
    regions.map((region) => [
      region,
      new store.DynamoRegionalStore({
        client: new DynamoDBClient({ region, endpoint: `http://127.0.0.1:${dynamodbPort}` }),
        tableName: linkedName(aws.storeTableResource(region)),
      }),
    ]),
  )
  const kv = store.createKvService({
    stores: direct,
    ringStore: new store.DynamoRingConfigStore({
      client: aws.dynamoClient(),
      tableName: linkedName(aws.coordinationTable.resource),
    }),
    replication: { replicas: 3, writeQuorum: 2 },
  })
  const repair = new store.AntiEntropy({ kv })
  const rows = async (region: string) => {
    const found: string[] = []
    for await (const page of direct[region]!.scan(0, 1)) {
      for (const item of page) {
        const value = item.value ? Buffer.from(item.value).toString() : ''
        found.push(`${item.storageKey}@${item.version}${item.deleted ? '-' : ''}=${value}`)
      }
    }
    return found.sort().join('\n')
  }
  const tablesEqual = async () => {
    const [first, ...rest] = await Promise.all(regions.map(rows))
    return rest.every((other) => other === first)
  }
  const differedAtHeal = !(await tablesEqual())
  let keysRepaired = 0
  let rounds = 0
  let replicasEqual = await tablesEqual()
  // Versions younger than the repair grace period (2 s) wait for a later round.
  while (!replicasEqual && rounds < 10) {
    if (rounds > 0) await sleep(1_000)
    keysRepaired += (await repair.repairAll()).repaired
    rounds++
    replicasEqual = await tablesEqual()
  }
  const convergeSeconds = (performance.now() - healedAt) / 1000

  // Every key reads as its last acknowledged write.
  let lostKeys = 0
  for (const [key, value] of acknowledged) {
    const read = await fetch(`${runtime.url}/kv/${key}`, { headers }).then((response) =>
      response.ok ? response.text() : undefined,
    )
    if (read !== value) lostKeys++
  }

  let unavailableMs = 0
  const times = [0, ...writeTimes.filter((at) => at >= 0).sort((a, b) => a - b), endedAt]
  for (let index = 1; index < times.length; index++)
    unavailableMs = Math.max(unavailableMs, times[index]! - times[index - 1]!)

  const p99HealthyMs = round(percentile(latencies.healthy, 99))
  const p99DuringFaultMs = round(percentile(latencies.fault, 99))
  console.log(
    `ops: healthy ${latencies.healthy.length}, fault ${latencies.fault.length}, after ${latencies.after.length}; failed ${failedOps}; stale reads ${staleReads}; tables differed after the load: ${differedAtHeal}; ${rounds} repair round(s), ${keysRepaired} copies repaired`,
  )
  console.log(
    `p50 healthy ${round(percentile(latencies.healthy, 50))} ms, during fault ${round(percentile(latencies.fault, 50))} ms; p99 ratio ${round(p99DuringFaultMs / p99HealthyMs, 2)}`,
  )
  console.log(
    JSON.stringify({
      bench: 'failover',
      writesAcked,
      writesLost: lostKeys + staleReads,
      unavailableMs: Math.round(unavailableMs),
      p99HealthyMs,
      p99DuringFaultMs,
      convergeSeconds: round(convergeSeconds, 2),
      keysRepaired,
      replicasEqual,
    }),
  )
} finally {
  await runtime.stop()
  await proxy.close()
}
