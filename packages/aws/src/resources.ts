// One definition of every table, queue and bucket. The shapes follow the arguments of
// SST's components (sst.aws.Dynamo `fields`/`primaryIndex`/`globalIndexes`/`ttl`,
// sst.aws.Queue `visibilityTimeout`/`dlq`) so infra/ passes them through unchanged, and the
// local bootstrap turns the same objects into CreateTable/CreateQueue/CreateBucket calls.
// `resource` is the name code reads through `Resource.<name>` from the sst SDK.
import { stageConfig } from './stage-config'

export type FieldType = 'string' | 'number' | 'binary'

export interface TableDefinition {
  resource: string
  /** Region the table lives in; undefined means the home region. */
  region?: string
  fields: Record<string, FieldType>
  primaryIndex: { hashKey: string; rangeKey?: string }
  globalIndexes?: Record<string, { hashKey: string; rangeKey?: string }>
  /** Attribute holding an epoch-seconds expiry; DynamoDB deletes expired items lazily. */
  ttl?: string
}

export interface QueueDefinition {
  resource: string
  /** Seconds a received message stays invisible; must exceed the subscriber's timeout. */
  visibilityTimeoutSeconds: number
  deadLetter: { resource: string; maxReceiveCount: number }
}

export interface BucketDefinition {
  resource: string
}

/**
 * Locks, transaction records, jobs, tasks and the ring config. Items that need attention
 * (an in-doubt transaction, a straggling task) also carry gsi1pk/gsi1sk, so the sparse
 * `attention` index lists exactly them without a scan. Items a tenant lists (its jobs,
 * newest first; its locks, by name) carry gsi2pk `<kind>#<tenant>` and a gsi2sk in listing
 * order, so the sparse `tenantListing` index pages through one tenant's items with a Query.
 */
export const coordinationTable = {
  resource: 'Coordination',
  fields: {
    pk: 'string',
    sk: 'string',
    gsi1pk: 'string',
    gsi1sk: 'string',
    gsi2pk: 'string',
    gsi2sk: 'string',
  },
  primaryIndex: { hashKey: 'pk', rangeKey: 'sk' },
  globalIndexes: {
    attention: { hashKey: 'gsi1pk', rangeKey: 'gsi1sk' },
    tenantListing: { hashKey: 'gsi2pk', rangeKey: 'gsi2sk' },
  },
  ttl: 'expiresAt',
} as const satisfies TableDefinition

/** `us-east-1` becomes `StoreUsEast1`: a valid resource name for SST links. */
export function storeTableResource(region: string): string {
  const pascal = region
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')
  return `Store${pascal}`
}

/** One KV store table per region: value, version, fence and intent live on the item. */
export function storeTable(region: string): TableDefinition {
  return {
    resource: storeTableResource(region),
    region,
    fields: { pk: 'string' },
    primaryIndex: { hashKey: 'pk' },
  }
}

// `@__PURE__` (with the package's sideEffects: false) lets esbuild drop these from bundles
// that don't use them, so a function's bundle names only the resources its code reads:
// test/unit/infra checks each function's links against exactly that.
export const storeTables: readonly TableDefinition[] = /* @__PURE__ */ stageConfig.storeRegions.map(
  storeTable,
)

export const mapQueue = {
  resource: 'MapQueue',
  visibilityTimeoutSeconds: 360,
  deadLetter: { resource: 'MapDeadLetterQueue', maxReceiveCount: 5 },
} as const satisfies QueueDefinition

export const reduceQueue = {
  resource: 'ReduceQueue',
  visibilityTimeoutSeconds: 360,
  deadLetter: { resource: 'ReduceDeadLetterQueue', maxReceiveCount: 5 },
} as const satisfies QueueDefinition

/**
 * Range tasks of ring migrations (packages/store/src/ring-migration.ts). A task scans a
 * segment of a store table and may run minutes: 300 s timeout × 6.
 */
export const ringMigrationQueue = {
  resource: 'RingMigrationQueue',
  visibilityTimeoutSeconds: 1800,
  deadLetter: { resource: 'RingMigrationDeadLetterQueue', maxReceiveCount: 10 },
} as const satisfies QueueDefinition

export const queues: readonly QueueDefinition[] = [mapQueue, reduceQueue, ringMigrationQueue]

export const dataBucket = { resource: 'DataBucket' } as const satisfies BucketDefinition

/**
 * The first admin API key, an SST Secret (`sst secret set AdminApiKey mrd_…`); locally the
 * runtime takes it from MERIDIAN_ADMIN_KEY or makes one and prints it once.
 */
export const adminApiKeySecret = { resource: 'AdminApiKey' } as const

export const tables: readonly TableDefinition[] = /* @__PURE__ */ [
  coordinationTable as TableDefinition,
].concat(storeTables)
