// Composition of the KV service on AWS: one DynamoDB regional store per configured store
// region (a client in that region, the table linked as Store<Region>), and the ring config
// in the coordination table. Replication and the ring cache's staleness bound come from the
// environment, with the defaults the README documents (R = 1, W = 1, 5 s).
import { coordinationTable, dynamoClient, stageConfig, storeTableResource } from '@meridian/aws'
import { linkedName } from '@meridian/aws/linked'
import {
  createKvService,
  DynamoRegionalStore,
  DynamoRingConfigStore,
  type IntentResolver,
  type KvService,
} from '@meridian/store'

function positiveInteger(variable: string, fallback: number): number {
  const raw = process.env[variable]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`${variable} must be an integer >= 0`)
  return value
}

export function kvService(resolveIntent?: IntentResolver): KvService {
  const stores = Object.fromEntries(
    stageConfig.storeRegions.map((region) => [
      region,
      new DynamoRegionalStore({
        client: dynamoClient(region),
        tableName: linkedName(storeTableResource(region)),
      }),
    ]),
  )
  return createKvService({
    stores,
    ringStore: new DynamoRingConfigStore({
      client: dynamoClient(),
      tableName: linkedName(coordinationTable.resource),
    }),
    replication: {
      replicas: positiveInteger('MERIDIAN_KV_REPLICAS', 1),
      writeQuorum: positiveInteger('MERIDIAN_KV_WRITE_QUORUM', 1),
    },
    ringStalenessMs: positiveInteger('MERIDIAN_RING_STALENESS_MS', 5_000),
    ...(resolveIntent && { resolveIntent }),
  })
}
