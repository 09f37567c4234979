// `npm run bench -- rebalance`: online ring changes on the local runtime (the `npm start`
// code: DynamoDB Local, fauxqs, the API and its SQS range-task workers), 3 regions, KEYS
// keys of about 1 KB (100,000 unless set), a closed-loop read/write workload over HTTP
// running throughout. Drain one region, then add it back at weight 2, each through
// PUT /ring. Before each change, in the same run, the baseline copies the same moved keys
// the way AWS's copy tools do (parallel Scan + BatchWriteItem into scratch tables, no
// guarantees). Checks every answer: an acknowledged write must never be lost, a read must
// never return an older version than one acknowledged before it started, a seeded key must
// never be missing. Prints the JSON line last.
//
// The workload's writers each own a slice of the keys (one writer per key), so "the last
// acknowledged version" of a key is exact.
//
// REBALANCE_NETWORK=modeled runs the same over modeled links: the API and the range-task
// workers run in the home region, as deployed, and each store table is reached through a
// latency proxy with a round trip like AWS's from there (us-east-1 5 ms within the region,
// eu-west-1 70 ms, ap-southeast-2 200 ms). The baseline copies through the same links. On
// one machine without it, every DynamoDB call costs CPU shared with the workload instead of
// a round trip, which is not what a deployment pays.
import '@meridian/local/process-defaults'
import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  type DynamoDBClient,
  ScanCommand,
  TransactWriteItemsCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb'
import { dynamoClient, stageConfig, storeClient, storeTableResource } from '@meridian/aws'
import { freePort, startLocalRuntime } from '@meridian/local'
import { DynamoMigrationLog, ringRouterFactory } from '@meridian/store'
import { FaultProxy } from '../test/support/fault-proxy'

process.env.MERIDIAN_RATE_LIMIT_PER_SECOND ??= '100000'
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN'
process.env.MERIDIAN_RING_STALENESS_MS ??= '1000'
// The workers' EMF metric lines would bury the result.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true'

const keysCount = Number(process.env.KEYS ?? 100_000)
const workers = 8
const segments = 4
/** Batches a range task hands over at once (RingMigrationService's default): the same here. */
const copyConcurrency = 8
const network = process.env.REBALANCE_NETWORK === 'modeled' ? 'modeled' : 'local'
/** Round trip from the home region (where the API and the workers run) to each table. */
const modeledRttMs: Record<string, number> = {
  'us-east-1': 5,
  'eu-west-1': 70,
  'ap-southeast-2': 200,
}
const value = 'v'.repeat(1000)
const regions = stageConfig.storeRegions

const round = (number: number, digits = 2) => Math.round(number * 10 ** digits) / 10 ** digits
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

interface Node {
  id: string
  region: string
  weight: number
}
interface RingStatus {
  version: number
  state: 'stable' | 'migrating'
  config: { version: number; nodes: Node[] }
}

const proxies: FaultProxy[] = []
let dynamodbPort: number | undefined
if (network === 'modeled') {
  dynamodbPort = await freePort()
  const endpoints: string[] = []
  for (const region of regions) {
    const proxy = await FaultProxy.start({ target: dynamodbPort })
    proxy.setRoundTrip(modeledRttMs[region] ?? 70)
    proxies.push(proxy)
    endpoints.push(`${region}=${proxy.endpoint}`)
  }
  // Store clients (the API's, the workers' and the baseline's) go through the links.
  process.env.MERIDIAN_STORE_ENDPOINTS = endpoints.join(',')
}
/** The client a copy uses for a table: through the modeled link when there is one. */
const copyClient = (region: string) =>
  network === 'modeled' ? storeClient(region) : dynamoClient(region)

// Local: one invocation thread per core. Modeled: one per range task of a change (8 at
// most here), as Lambda runs each SQS message in its own instance; the calls wait on the
// links, not the cores.
const runtime = await startLocalRuntime({
  port: 0,
  concurrency: network === 'modeled' ? 8 : 2,
  ...(dynamodbPort !== undefined && { dynamodbPort }),
})
const { linkedName } = await import('@meridian/aws/linked')
try {
  const admin = { authorization: `Bearer ${runtime.adminApiKey}` }
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${runtime.url}${path}`, { ...init, headers: { ...admin, ...init.headers } })
  const ring = async () => (await (await call('/ring')).json()) as RingStatus
  const tableOf = (region: string) => linkedName(storeTableResource(region))
  const ownerUnder = (nodes: Node[]) => {
    const router = ringRouterFactory({ nodes, version: 0 })
    return (storageKey: string) => router.preferenceList(storageKey, 1)[0]!.region
  }

  // Seed every key straight into its owner's table, as a KV put would leave it.
  const initial = await ring()
  const ownerNow = ownerUnder(initial.config.nodes)
  const keys = Array.from({ length: keysCount }, (_, index) => `rebalance-${index}`)
  const started = performance.now()
  await inParallel(16, chunks(keys, 25), async (chunk) => {
    const byRegion = new Map<string, WriteRequest[]>()
    for (const key of chunk) {
      const storageKey = `default#${key}`
      const requests = byRegion.get(ownerNow(storageKey)) ?? []
      requests.push({
        PutRequest: {
          Item: {
            pk: { S: storageKey },
            value: { B: new TextEncoder().encode(value) },
            contentType: { S: 'text/plain' },
            version: { N: '1' },
            updatedAtMs: { N: String(Date.now()) },
          },
        },
      })
      byRegion.set(ownerNow(storageKey), requests)
    }
    for (const [region, requests] of byRegion) {
      await batchWrite(dynamoClient(region), tableOf(region), requests)
    }
  })
  console.error(`seeded ${keysCount} keys in ${round((performance.now() - started) / 1000, 1)} s`)
  // Both copies measured run warm: the seeding above ran the baseline's BatchWriteItem path
  // through DynamoDB Local's JIT; the handover's transactions (conditional updates in
  // TransactWriteItems) get the same here, on a scratch table, before anything is
  // measured. Cold, the first tens of seconds of the first change ran its transactions at
  // a fraction of their warm rate. REBALANCE_WARMUP=0 skips it.
  if (process.env.REBALANCE_WARMUP !== '0') await warmTransactions()

  // The workload: each writer owns the keys index ≡ w (mod workers); readers read any key.
  const lastAcknowledged = new Map<string, number>()
  const latencies: { atMs: number; ms: number }[] = []
  const problems = { lostWrites: 0, staleReads: 0, missingReads: 0, otherErrors: 0 }
  let running = true
  const loop = async (worker: number) => {
    let step = 0
    while (running) {
      step++
      const own =
        keys[(worker + workers * ((step * 7919) % Math.floor(keysCount / workers))) % keysCount]!
      const any = keys[(step * 104_729 + worker * 31) % keysCount]!
      const floor = lastAcknowledged.get(any) ?? 1
      let begun = performance.now()
      const read = await call(`/kv/${any}`)
      latencies.push({ atMs: begun, ms: performance.now() - begun })
      if (read.status === 404) problems.missingReads++
      else if (read.status === 200) {
        await read.arrayBuffer()
        const version = Number(read.headers.get('etag')?.replaceAll('"', ''))
        if (version < floor) problems.staleReads++
      } else if (read.status !== 503) problems.otherErrors++
      begun = performance.now()
      const write = await call(`/kv/${own}`, { method: 'PUT', body: value })
      latencies.push({ atMs: begun, ms: performance.now() - begun })
      if (write.status === 200 || write.status === 201) {
        const version = Number(write.headers.get('etag')?.replaceAll('"', ''))
        lastAcknowledged.set(own, Math.max(lastAcknowledged.get(own) ?? 0, version))
      } else if (write.status !== 503) problems.otherErrors++
    }
  }
  const running$ = Promise.all(Array.from({ length: workers }, (_, worker) => loop(worker)))
  await sleep(8_000)
  const beforeEndMs = performance.now()

  const phases: Array<{
    moved: number
    ideal: number
    scanned: number
    seconds: number
    baselineKeysPerSec: number
    duringStartMs: number
    duringEndMs: number
  }> = []

  const change = async (nodes: Node[], ideal: number) => {
    const current = await ring()
    const baselineKeysPerSec = await baselineCopy(current.config.nodes, nodes)
    const duringStartMs = performance.now()
    const answer = await call('/ring', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'if-match': `"${current.version}"` },
      body: JSON.stringify({ nodes }),
    })
    if (answer.status !== 202) throw new Error(`PUT /ring: ${answer.status} ${await answer.text()}`)
    const moving = (await answer.json()) as RingStatus
    let status = moving
    while (status.state !== 'stable') {
      await sleep(200)
      status = await ring()
    }
    const seconds = (performance.now() - duringStartMs) / 1000
    const log = new DynamoMigrationLog({
      client: dynamoClient(),
      tableName: linkedName('Coordination'),
    })
    const done = await log.completed(moving.version)
    // Keys moved by the range tasks, plus those the workload's handlers pulled first.
    const moved = await countFrozen(current.config.nodes, nodes)
    phases.push({
      moved,
      ideal,
      scanned: done.reduce((sum, task) => sum + task.scanned, 0),
      seconds,
      baselineKeysPerSec,
      duringStartMs,
      duringEndMs: performance.now(),
    })
    await sleep(2_000)
  }

  const drained = initial.config.nodes[0]!
  const inDrained = keys.filter((key) => ownerNow(`default#${key}`) === drained.region).length
  await change(
    initial.config.nodes.filter((node) => node !== drained),
    inDrained,
  )
  const afterDrain = await ring()
  const totalWeight = afterDrain.config.nodes.reduce((sum, node) => sum + node.weight, 0) + 2
  await change(
    [...afterDrain.config.nodes, { ...drained, id: `${drained.id}-back`, weight: 2 }],
    Math.round((keysCount * 2) / totalWeight),
  )

  running = false
  await running$
  // Lost writes: every key's final version must be at least its last acknowledged one.
  for (const [key, acknowledged] of lastAcknowledged) {
    const read = await call(`/kv/${key}`)
    const version = Number(read.headers.get('etag')?.replaceAll('"', ''))
    if (read.status !== 200 || version < acknowledged) problems.lostWrites++
    await read.arrayBuffer()
  }

  const before = latencies.filter((entry) => entry.atMs < beforeEndMs).map((entry) => entry.ms)
  const during = latencies
    .filter((entry) =>
      phases.some((p) => entry.atMs >= p.duringStartMs && entry.atMs < p.duringEndMs),
    )
    .map((entry) => entry.ms)
  const moved = phases.reduce((sum, phase) => sum + phase.moved, 0)
  const ideal = phases.reduce((sum, phase) => sum + phase.ideal, 0)
  const seconds = phases.reduce((sum, phase) => sum + phase.seconds, 0)
  const baseline = phases.reduce((sum, phase) => sum + phase.baselineKeysPerSec, 0) / phases.length
  if (problems.otherErrors > 0) console.error(`other errors: ${problems.otherErrors}`)
  console.log(
    JSON.stringify({
      bench: 'rebalance',
      network,
      ...(network === 'modeled' && { rttMs: modeledRttMs }),
      keys: keysCount,
      movedKeys: moved,
      idealMovedKeys: ideal,
      moveRatio: round(moved / ideal, 3),
      keysPerSec: round(moved / seconds, 0),
      baselineKeysPerSec: round(baseline, 0),
      readsPerMovedKey: round(phases.reduce((sum, p) => sum + p.scanned, 0) / moved, 2),
      lostWrites: problems.lostWrites,
      staleReads: problems.staleReads,
      missingReads: problems.missingReads,
      p99BeforeMs: round(percentile(before, 99), 1),
      p99DuringMs: round(percentile(during, 99), 1),
      migrationSeconds: round(seconds, 1),
    }),
  )

  /** Conditional updates in transactions of 50, as a handover writes them, on a scratch table. */
  async function warmTransactions(): Promise<void> {
    const began = performance.now()
    const client = dynamoClient(regions[0]!)
    const table = `rebalance-warmup-${Date.now()}`
    await client.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    )
    const warmKeys = Array.from({ length: 2000 }, (_, index) => `warmup-${index}`)
    const bytes = new TextEncoder().encode(value)
    for (let round = 1; round <= 4; round++) {
      await inParallel(4, chunks(warmKeys, 50), async (chunk) => {
        await client.send(
          new TransactWriteItemsCommand({
            TransactItems: chunk.map((key) => ({
              Update: {
                TableName: table,
                Key: { pk: { S: key } },
                UpdateExpression: 'SET #value = :value, #version = :version REMOVE #movedTo',
                ConditionExpression: 'attribute_not_exists(#version) OR #version < :version',
                ExpressionAttributeNames: {
                  '#value': 'value',
                  '#version': 'version',
                  '#movedTo': 'movedTo',
                },
                ExpressionAttributeValues: {
                  ':value': { B: bytes },
                  ':version': { N: String(round) },
                },
              },
            })),
          }),
        )
      })
    }
    console.error(`warmed transactions in ${round((performance.now() - began) / 1000, 1)} s`)
  }

  /** Frozen copies in the old owners' tables of keys whose owner changed: what moved. */
  async function countFrozen(from: Node[], to: Node[]): Promise<number> {
    const oldOwner = ownerUnder(from)
    const newOwner = ownerUnder(to)
    let count = 0
    for (const region of new Set(from.map((node) => node.region))) {
      await scanTable(dynamoClient(region), tableOf(region), async (items) => {
        for (const item of items) {
          const storageKey = item.pk?.S ?? ''
          if (item.movedTo?.S === undefined) continue
          if (oldOwner(storageKey) === region && newOwner(storageKey) !== region) count++
        }
      })
    }
    return count
  }

  /** AWS-style copy of the keys that change owner into scratch tables; keys per second. */
  async function baselineCopy(from: Node[], to: Node[]): Promise<number> {
    const newOwner = ownerUnder(to)
    const scratch = new Map<string, string>()
    for (const region of regions) {
      const name = `rebalance-baseline-${region}-${Date.now()}`
      await dynamoClient(region).send(
        new CreateTableCommand({
          TableName: name,
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      )
      scratch.set(region, name)
    }
    const beganMs = performance.now()
    let copied = 0
    await Promise.all(
      [...new Set(from.map((node) => node.region))].flatMap((region) =>
        Array.from({ length: segments }, (_, segment) =>
          scanTable(
            copyClient(region),
            tableOf(region),
            async (items) => {
              const moving = items.filter((item) => {
                const storageKey = item.pk?.S ?? ''
                return (
                  !storageKey.startsWith('!') && !item.movedTo && newOwner(storageKey) !== region
                )
              })
              const byOwner = new Map<string, Item[]>()
              for (const item of moving) {
                const owner = newOwner(item.pk!.S!)
                byOwner.set(owner, [...(byOwner.get(owner) ?? []), item])
              }
              const writes = [...byOwner].flatMap(([owner, group]) =>
                chunks(group, 25).map((chunk) => [owner, chunk] as const),
              )
              // As many batches at once as a range task hands over.
              await inParallel(copyConcurrency, writes, async ([owner, chunk]) => {
                await batchWrite(
                  copyClient(owner),
                  scratch.get(owner)!,
                  chunk.map((Item) => ({ PutRequest: { Item } })),
                )
                copied += chunk.length
              })
            },
            { segment, segments },
          ),
        ),
      ),
    )
    return copied / ((performance.now() - beganMs) / 1000)
  }
} finally {
  await runtime.stop()
  for (const proxy of proxies) await proxy.close()
}

async function batchWrite(client: DynamoDBClient, table: string, requests: WriteRequest[]) {
  let pending = requests
  while (pending.length > 0) {
    const output = await client.send(
      new BatchWriteItemCommand({ RequestItems: { [table]: pending } }),
    )
    pending = output.UnprocessedItems?.[table] ?? []
  }
}

type Item = Record<string, AttributeValue>

async function scanTable(
  client: DynamoDBClient,
  table: string,
  each: (items: Item[]) => Promise<void>,
  parallel?: { segment: number; segments: number },
) {
  let startKey: Item | undefined
  do {
    const output = await client.send(
      new ScanCommand({
        TableName: table,
        ExclusiveStartKey: startKey,
        ...(parallel && { Segment: parallel.segment, TotalSegments: parallel.segments }),
      }),
    )
    await each(output.Items ?? [])
    startKey = output.LastEvaluatedKey
  } while (startKey)
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = []
  for (let start = 0; start < items.length; start += size)
    result.push(items.slice(start, start + size))
  return result
}

async function inParallel<T>(limit: number, items: readonly T[], each: (item: T) => Promise<void>) {
  let next = 0
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await each(items[next++]!)
    }),
  )
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
