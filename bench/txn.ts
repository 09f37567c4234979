// `npm run bench -- txn`: Meridian's 2PC (and 3PC) against DynamoDB's TransactWriteItems
// doing the same 2-item transfer, in the same run, on DynamoDB Local started here. Both
// sides read the two accounts, then write both new balances conditional on the versions
// read. Ours spans the three regional store tables; the native one can only use one table.
// Every client reaches DynamoDB Local through one fault proxy (test/support/fault-proxy.ts),
// first with no added delay, then with a 5 ms round trip per request, as DynamoDB within
// a region costs. Writes are counted by SDK middleware on every side alike, the native
// side's too, and the sweeper's deferred write that takes our record out of the attention
// index is measured by running the sweep over the sampled transactions.
//
// Fairness: all three paths are warmed, then run in passes that alternate their order;
// each throughput is the median over passes. Prints one JSON line last.
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb'
import { coordinationTable, stageConfig, storeTableResource, storeTables } from '@meridian/aws'
import { bootstrapResources, startLocalEngines } from '@meridian/local'
import {
  DynamoDbParticipant,
  DynamoDbTransactionLog,
  defaultCoordinatorOptions,
  executeTransaction,
  hashModuloRouter,
  type Protocol,
  type RegionalTable,
  sweep,
  systemClock,
  type TransactionPorts,
} from '@meridian/txn'
import { FaultProxy } from '../test/support/fault-proxy'

const accountsCount = 64
const workersCount = 8
const phaseMs = 3_000
const passes = 3
const rttMs = 5
const encoder = new TextEncoder()
const decoder = new TextDecoder()

const region = stageConfig.homeRegion
const engines = await startLocalEngines({ region })
const proxy = await FaultProxy.start({ target: engines.dynamodbEndpoint })
try {
  const resources = await bootstrapResources({ stage: 'bench', region, endpoints: engines })
  const tableName = (resource: string) =>
    [...resources.tables].find(([table]) => table.resource === resource)![1]
  let writes = 0
  const newClient = (clientRegion: string) => {
    const client = new DynamoDBClient({
      region: clientRegion,
      endpoint: proxy.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    })
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = context.commandName
        if (
          name === 'PutItemCommand' ||
          name === 'UpdateItemCommand' ||
          name === 'DeleteItemCommand'
        )
          writes++
        if (name === 'TransactWriteItemsCommand') {
          writes += ((args.input as { TransactItems?: unknown[] }).TransactItems ?? []).length
        }
        return next(args)
      },
      { step: 'initialize', name: 'countWrites' },
    )
    return client
  }
  const tables: Record<string, RegionalTable> = {}
  for (const storeRegion of stageConfig.storeRegions) {
    tables[storeRegion] = {
      client: newClient(storeRegion),
      tableName: tableName(storeTableResource(storeRegion)),
    }
  }
  const ports: TransactionPorts = {
    log: new DynamoDbTransactionLog({
      client: newClient(region),
      tableName: tableName(coordinationTable.resource),
    }),
    participant: new DynamoDbParticipant(tables),
    clock: systemClock,
    router: hashModuloRouter(stageConfig.storeRegions),
  }
  const options = { ...defaultCoordinatorOptions, owner: 'bench' }
  const tenant = 'bench'
  const accounts = Array.from({ length: accountsCount }, (_, index) => `account-${index}`)
  const storage = (key: string) => `${tenant}#${key}`

  // Open every account (ours through a transaction, native ones with plain puts).
  await executeTransaction(
    ports,
    {
      tenant,
      id: 'open',
      protocol: '2pc',
      operations: accounts.map((key) => ({
        kind: 'put' as const,
        key,
        value: encoder.encode('1000'),
        contentType: 'text/plain',
        expectedVersion: 'absent' as const,
      })),
    },
    options,
  )
  const nativeClient = newClient(region)
  const nativeTable = tableName(storeTables[0]!.resource)
  for (const key of accounts) {
    await nativeClient.send(
      new PutItemCommand({
        TableName: nativeTable,
        Item: { pk: { S: `native#${key}` }, balance: { N: '1000' }, version: { N: '1' } },
      }),
    )
  }

  const pickPair = () => {
    const from = Math.floor(Math.random() * accountsCount)
    const to = (from + 1 + Math.floor(Math.random() * (accountsCount - 1))) % accountsCount
    return [accounts[from]!, accounts[to]!] as const
  }
  let sequence = 0

  async function ourTransfer(protocol: Protocol): Promise<boolean> {
    const [from, to] = pickPair()
    const regionOf = (key: string) => ports.router.regionOf(storage(key)) as string
    const [source, target] = await Promise.all([
      ports.participant.read(regionOf(from), storage(from)),
      ports.participant.read(regionOf(to), storage(to)),
    ])
    if (!source || !target || source.intent || target.intent) return false
    const outcome = await executeTransaction(
      ports,
      {
        tenant,
        id: `t-${protocol}-${sequence++}`,
        protocol,
        operations: [
          {
            kind: 'put',
            key: from,
            value: encoder.encode(String(Number(decoder.decode(source.value)) - 1)),
            contentType: 'text/plain',
            expectedVersion: source.version,
          },
          {
            kind: 'put',
            key: to,
            value: encoder.encode(String(Number(decoder.decode(target.value)) + 1)),
            contentType: 'text/plain',
            expectedVersion: target.version,
          },
        ],
      },
      options,
    )
    return outcome.state === 'COMMITTED'
  }

  async function nativeTransfer(): Promise<boolean> {
    const [from, to] = pickPair()
    const read = (key: string) =>
      nativeClient.send(
        new GetItemCommand({
          TableName: nativeTable,
          Key: { pk: { S: `native#${key}` } },
          ConsistentRead: true,
        }),
      )
    const [source, target] = await Promise.all([read(from), read(to)])
    const update = (key: string, item: typeof source.Item, delta: number) => ({
      Update: {
        TableName: nativeTable,
        Key: { pk: { S: `native#${key}` } },
        UpdateExpression: 'SET balance = :balance, version = :next',
        ConditionExpression: 'version = :version',
        ExpressionAttributeValues: {
          ':balance': { N: String(Number(item!.balance!.N) + delta) },
          ':version': { N: item!.version!.N! },
          ':next': { N: String(Number(item!.version!.N) + 1) },
        },
      },
    })
    try {
      await nativeClient.send(
        new TransactWriteItemsCommand({
          TransactItems: [update(from, source.Item, -1), update(to, target.Item, 1)],
        }),
      )
      return true
    } catch {
      return false
    }
  }

  async function throughput(transfer: () => Promise<boolean>): Promise<number> {
    let committed = 0
    const started = performance.now()
    await Promise.all(
      Array.from({ length: workersCount }, async () => {
        while (performance.now() - started < phaseMs) if (await transfer()) committed++
      }),
    )
    return committed / ((performance.now() - started) / 1000)
  }

  // Writes per transaction, measured on uncontended sequential transfers, on every side.
  const sampleCount = 20
  async function writesPer(transfer: () => Promise<boolean>): Promise<number> {
    writes = 0
    let committed = 0
    for (let index = 0; index < sampleCount; index++) if (await transfer()) committed++
    return writes / committed
  }
  const writesPerTxn = await writesPer(() => ourTransfer('2pc'))
  const threePcWritesPerTxn = await writesPer(() => ourTransfer('3pc'))
  const nativeWritesPerTxn = await writesPer(nativeTransfer)
  // The sweeper's deferred visit of those records (after their grace period: the sweep
  // runs on a clock past it), which clears each from the attention index with one write.
  writes = 0
  const swept = await sweep(
    { ...ports, clock: { nowMs: () => Date.now() + 10 * options.lateWriteGraceMs } },
    { ...options, limit: 1_000, tenant },
  )
  const deferredWritesPerTxn = writes / swept.cleared

  const paths = {
    native: nativeTransfer,
    twoPc: () => ourTransfer('2pc'),
    threePc: () => ourTransfer('3pc'),
  }
  type PathName = keyof typeof paths
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b)
    const middle = sorted.length >> 1
    return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
  }
  async function measure() {
    const rates: Record<PathName, number[]> = { native: [], twoPc: [], threePc: [] }
    const order: PathName[] = ['native', 'twoPc', 'threePc']
    for (let pass = 0; pass < passes; pass++) {
      // Rotate which path goes first, so drift and neighbours' load hit all alike.
      for (let step = 0; step < order.length; step++) {
        const name = order[(pass + step) % order.length]!
        rates[name].push(await throughput(paths[name]))
      }
    }
    return {
      nativeTxnPerSec: median(rates.native),
      txnPerSec: median(rates.twoPc),
      threePcTxnPerSec: median(rates.threePc),
    }
  }

  // Warm all three paths (JIT, connections), then measure.
  for (const transfer of Object.values(paths)) await throughput(transfer)
  const atRtt0 = await measure()
  proxy.setRoundTrip(rttMs)
  const atRtt5 = await measure()

  const round = (value: number) => Math.round(value * 10) / 10
  const ratio = (rates: typeof atRtt0) =>
    Math.round((rates.txnPerSec / rates.nativeTxnPerSec) * 100) / 100
  for (const [rtt, rates] of [
    [0, atRtt0],
    [rttMs, atRtt5],
  ] as const) {
    console.log(
      `rtt ${rtt} ms: 2PC ${round(rates.txnPerSec)} txn/s, 3PC ${round(rates.threePcTxnPerSec)} txn/s, native ${round(rates.nativeTxnPerSec)} txn/s (medians of ${passes} passes)`,
    )
  }
  console.log(
    `writes per 2-item txn: 2PC ${writesPerTxn}, 3PC ${threePcWritesPerTxn}, native ${nativeWritesPerTxn}; ours also ${deferredWritesPerTxn} deferred sweeper write each (${swept.cleared} records cleared)`,
  )
  console.log(
    JSON.stringify({
      bench: 'txn',
      txnPerSec: round(atRtt0.txnPerSec),
      nativeTxnPerSec: round(atRtt0.nativeTxnPerSec),
      ratio: ratio(atRtt0),
      writesPerTxn,
      deferredWritesPerTxn,
      nativeWritesPerTxn,
      items: 2,
      threePcTxnPerSec: round(atRtt0.threePcTxnPerSec),
      threePcWritesPerTxn,
      rttMs: [0, rttMs],
      txnPerSecAtRtt5: round(atRtt5.txnPerSec),
      nativeTxnPerSecAtRtt5: round(atRtt5.nativeTxnPerSec),
      threePcTxnPerSecAtRtt5: round(atRtt5.threePcTxnPerSec),
      ratioAtRtt5: ratio(atRtt5),
    }),
  )
} finally {
  await proxy.close()
  await engines.stop()
}
