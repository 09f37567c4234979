/**
 * Regional KV stores: versioned items in one DynamoDB table per region, compare-and-swap on
 * version, writes fenced by lock tokens, the item format transaction intents use, the ring
 * config (stored in the coordination table, cached with a bounded staleness) and the KV
 * service that routes each `${tenant}#${key}` through the ring to its region's store, with
 * optional replication over R regions and write/read quorums; ring changes that move the
 * data online (ring-migration.ts) and a failure detector per region (failure-detector.ts).
 *
 * Ports other packages implement or use:
 * - RegionalStore (regional-store.ts): get / put / delete on one region's table, with
 *   expectedVersion ('absent' for create-only), fence and typed errors, and the handover
 *   steps a migration uses. DynamoRegionalStore and MemoryRegionalStore implement it;
 *   test/integration/store/store-contract.ts and migration-contract.ts are their contract.
 * - IntentResolver (kv-service.ts): `resolve(storageKey, item, region) → 'committed' | 'aborted' |
 *   'pending'`, called when a read meets an item with an `intent`; the transactions package
 *   supplies it. Without one, reads return the committed value.
 * - RingConfigStore / KeyRouter (ring-config.ts): where the ring config lives and how a key
 *   finds its nodes.
 */

export * from './anti-entropy'
export * from './create-kv-service'
export * from './dynamo-migration-log'
export * from './dynamo-regional-store'
export * from './dynamo-ring-config-store'
export * from './errors'
export * from './failure-detector'
export * from './item-format'
export * from './kv-service'
export * from './limits'
export * from './memory-regional-store'
export * from './memory-ring'
export * from './quorum'
export * from './regional-store'
export * from './ring-cache'
export * from './ring-config'
export * from './ring-migration'
export * from './ring-router'
