// `npm run bench -- txn`: Meridian's 2PC (and 3PC) against DynamoDB's TransactWriteItems
// doing the same 2-item transfer, in the same run, on DynamoDB Local started here. Both
// sides read the two accounts, then write both new balances conditional on the versions
// read. Ours spans the three regional store tables; the native one can only use one table.
// Writes are counted by SDK middleware. Prints one JSON line last.
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
  systemClock,
  type TransactionPorts,
} from '@meridian/txn'

const accountsCount = 64
const workersCount = 8
const phaseMs = 4_000
const encoder = new TextEncoder()
const decoder = new TextDecoder()

const region = stageConfig.homeRegion
const engines = await startLocalEngines({ region })
try {
  const resources = await bootstrapResources({ stage: 'bench', region, endpoints: engines })
  const tableName = (resource: string) =>
    [...resources.tables].find(([table]) => table.resource === resource)![1]
  let writes = 0
  const newClient = (clientRegion: string) => {
    const client = new DynamoDBClient({
      region: clientRegion,
      endpoint: engines.dynamodbEndpoint,
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

  // Writes per transaction, measured on uncontended sequential transfers.
  const sampleCount = 20
  writes = 0
  let sampled = 0
  for (let index = 0; index < sampleCount; index++) if (await ourTransfer('2pc')) sampled++
  const writesPerTxn = writes / sampled
  writes = 0
  let sampled3 = 0
  for (let index = 0; index < sampleCount; index++) if (await ourTransfer('3pc')) sampled3++
  const threePcWritesPerTxn = writes / sampled3

  // Warm both paths, then alternate to share the machine's noise fairly.
  await throughput(nativeTransfer)
  const nativeTxnPerSec = await throughput(nativeTransfer)
  const txnPerSec = await throughput(() => ourTransfer('2pc'))
  const threePcTxnPerSec = await throughput(() => ourTransfer('3pc'))
  const round = (value: number) => Math.round(value * 10) / 10
  console.log(
    `2PC ${round(txnPerSec)} txn/s, 3PC ${round(threePcTxnPerSec)} txn/s, native ${round(nativeTxnPerSec)} txn/s; writes per 2-item txn: 2PC ${writesPerTxn}, 3PC ${threePcWritesPerTxn}, native 2 (+1 deferred sweeper write for ours)`,
  )
  console.log(
    JSON.stringify({
      bench: 'txn',
      txnPerSec: round(txnPerSec),
      nativeTxnPerSec: round(nativeTxnPerSec),
      ratio: Math.round((txnPerSec / nativeTxnPerSec) * 100) / 100,
      writesPerTxn,
      items: 2,
      threePcTxnPerSec: round(threePcTxnPerSec),
    }),
  )
} finally {
  await engines.stop()
}
