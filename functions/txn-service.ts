// The transaction service with its AWS adapters: the record in the coordination table,
// intents in each region's store table, keys routed by the same ring the KV store uses.
// Given a KV service, routing follows its current (cached, reloaded) ring config, so a
// transaction stages each intent in the region a KV read goes to; without one it routes by
// the initial ring over the configured store regions.
import { coordinationTable, dynamoClient, stageConfig, storeTableResource } from '@meridian/aws'
import { linkedName } from '@meridian/aws/linked'
import {
  initialRingConfig,
  type KvService,
  resolveRingLayout,
  ringRouterFactory,
} from '@meridian/store'
import {
  DynamoDbParticipant,
  DynamoDbTransactionLog,
  type KeyRouter,
  type RegionalTable,
  systemClock,
  TransactionService,
} from '@meridian/txn'

function ringKeyRouter(kv: KvService | undefined): KeyRouter {
  if (kv) {
    return {
      async regionOf(routingKey) {
        const separator = routingKey.indexOf('#')
        const { owners } = await kv.owners(
          routingKey.slice(0, separator),
          routingKey.slice(separator + 1),
        )
        return owners[0]!.region
      },
      // Moves a key whose range is migrating before its intent is staged (R = 1).
      placementOf: (routingKey) => kv.writePlacement(routingKey),
    }
  }
  const router = ringRouterFactory({
    ...resolveRingLayout(initialRingConfig(stageConfig.storeRegions)),
    version: 1,
  })
  return { regionOf: (routingKey) => router.preferenceList(routingKey, 1)[0]!.region }
}

export function transactionService(kv?: KvService): TransactionService {
  const tables: Record<string, RegionalTable> = {}
  for (const region of stageConfig.storeRegions) {
    tables[region] = {
      client: dynamoClient(region),
      tableName: linkedName(storeTableResource(region)),
    }
  }
  return new TransactionService({
    log: new DynamoDbTransactionLog({
      client: dynamoClient(),
      tableName: linkedName(coordinationTable.resource),
    }),
    participant: new DynamoDbParticipant(tables),
    clock: systemClock,
    router: ringKeyRouter(kv),
  })
}
