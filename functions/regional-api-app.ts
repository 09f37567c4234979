// The composition root of a regional API (the edge tier's API in a non-home store region):
// the same Hono app as the home API (functions/api-app.ts), in regional mode. It reaches its
// own region's store table and, in the home region, the coordination table (API keys, the
// rate limit, the ring config, the records of transactions whose intents it meets) and the
// admin key; every request it does not serve itself goes to the home API (packages/api
// regional.ts). No other region's table is named here, so none can be called: the KV service
// has one store, the transaction service one participant table, and the ring config is read
// only (the home API stores the first one). functions/regional-api.ts runs it on Lambda from
// its environment; the local runtime (MERIDIAN_EDGE=1) builds one per region directly.
import { awsRegionalEngineProbes, createApp } from '@meridian/api'
import {
  coordinationTable,
  countMetric,
  dynamoClient,
  settings,
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
  type RingConfigStore,
  RingUnavailableError,
} from '@meridian/store'
import {
  DynamoDbParticipant,
  DynamoDbTransactionLog,
  storeIntentResolver,
  systemClock,
  TransactionService,
} from '@meridian/txn'
import { apiLogging, apiSecurity } from './api-security'

export interface RegionalApiOptions {
  /** The store region this API serves (not the home region). */
  servedRegion: string
  /** The home region's API, where every request not served here goes. */
  homeApiUrl: string
  fetch?: typeof fetch
  /** Where the ring config is read; the coordination table's ring item unless given. */
  ringStore?: RingConfigStore
}

/** The ring config, read only: a regional API never stores one, not even the first. */
function readOnly(store: RingConfigStore): RingConfigStore {
  return {
    load: () => store.load(),
    replace: async () => {
      throw new RingUnavailableError('a regional API does not write the ring config')
    },
  }
}

export function createRegionalApiApp(options: RegionalApiOptions) {
  const { servedRegion } = options
  const send = options.fetch ?? globalThis.fetch
  const homeApiUrl = options.homeApiUrl.replace(/\/+$/, '')
  const coordinationTableName = linkedName(coordinationTable.resource)
  const detector = new FailureDetector({
    onChange: (view) =>
      countMetric(view.state === 'suspected' ? 'RegionSuspected' : 'RegionTrusted'),
  })
  const storeTable = linkedName(storeTableResource(servedRegion))

  // Intents this API meets on its own table: the record is in the coordination table, and
  // resolving one applies or discards it on this key only (packages/txn recovery.ts).
  let transactions: TransactionService | undefined
  const resolveIntent: IntentResolver = {
    resolve: (storageKey, item, region) => {
      if (!transactions) throw new Error('the transaction service is not wired yet')
      return storeIntentResolver(transactions).resolve(storageKey, item, region ?? servedRegion)
    },
  }
  const kv = createKvService({
    stores: {
      [servedRegion]: detectingStore(
        servedRegion,
        new DynamoRegionalStore({ client: storeClient(servedRegion), tableName: storeTable }),
        detector,
      ),
    },
    ringStore: readOnly(
      options.ringStore ??
        new DynamoRingConfigStore({ client: dynamoClient(), tableName: coordinationTableName }),
    ),
    replication: {
      replicas: settings().MERIDIAN_KV_REPLICAS,
      writeQuorum: settings().MERIDIAN_KV_WRITE_QUORUM,
    },
    ringStalenessMs: settings().MERIDIAN_RING_STALENESS_MS,
    health: detector,
    resolveIntent,
  })
  transactions = new TransactionService({
    log: new DynamoDbTransactionLog({ client: dynamoClient(), tableName: coordinationTableName }),
    participant: new DynamoDbParticipant({
      [servedRegion]: { client: dynamoClient(servedRegion), tableName: storeTable },
    }),
    clock: systemClock,
    // Only consulted for a read that does not say where it read (R > 1, never served here).
    router: { regionOf: () => servedRegion },
  })

  return createApp({
    probes: awsRegionalEngineProbes(servedRegion),
    servedRegion,
    ...apiLogging('meridian-regional-api'),
    security: apiSecurity(),
    kv,
    regions: { detector, names: [servedRegion] },
    regional: {
      forwardHome: (pathAndQuery, init) => send(`${homeApiUrl}${pathAndQuery}`, init),
    },
  })
}
