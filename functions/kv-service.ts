// Composition of the KV service on AWS: one DynamoDB regional store per configured store
// region (a client in that region, the table linked as Store<Region>), and the ring config
// in the coordination table. Replication and the ring cache's staleness bound come from the
// validated settings (packages/aws/src/settings.ts; defaults R = 1, W = 1, 5 s).
import {
  coordinationTable,
  countMetric,
  dynamoClient,
  settings,
  stageConfig,
  storeClient,
  storeTableResource,
} from '@meridian/aws'
import { linkedName } from '@meridian/aws/linked'
import {
  createKvService,
  DynamoRegionalStore,
  DynamoRingConfigStore,
  detectingStore,
  FailureDetector,
  type IntentResolver,
  type KvService,
} from '@meridian/store'

/** This instance's view of the store regions (GET /regions), fed by the KV calls it makes. */
export const regionDetector = new FailureDetector({
  onChange: (view) => countMetric(view.state === 'suspected' ? 'RegionSuspected' : 'RegionTrusted'),
})

export function kvService(resolveIntent?: IntentResolver): KvService {
  const stores = Object.fromEntries(
    stageConfig.storeRegions.map((region) => [
      region,
      detectingStore(
        region,
        new DynamoRegionalStore({
          client: storeClient(region),
          tableName: linkedName(storeTableResource(region)),
        }),
        regionDetector,
      ),
    ]),
  )
  return createKvService({
    stores,
    ringStore: new DynamoRingConfigStore({
      client: dynamoClient(),
      tableName: linkedName(coordinationTable.resource),
    }),
    replication: {
      replicas: settings().MERIDIAN_KV_REPLICAS,
      writeQuorum: settings().MERIDIAN_KV_WRITE_QUORUM,
    },
    ringStalenessMs: settings().MERIDIAN_RING_STALENESS_MS,
    // Quorum reads ask the healthiest replicas and hedge; what they repair is counted.
    health: regionDetector,
    onRepair: (_region, keys) => countMetric('KeysRepaired', keys),
    ...(resolveIntent && { resolveIntent }),
  })
}
