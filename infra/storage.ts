// Tables and the bucket, from the shared definitions in packages/aws. Each store table
// lives in its own region through an aws.Provider for that region. DynamoDB encrypts
// every table at rest (AWS-owned keys) and S3 every object (SSE-S3); both by default.
import {
  coordinationTable,
  dataBucket,
  stageConfig,
  storeTables as storeTableDefinitions,
  type TableDefinition,
} from '../packages/aws/src'

const production = $app.stage === 'production'

/** The stage config names regions as strings; a provider takes only a region AWS has. */
export function awsRegion(name: string): aws.Region {
  const region = Object.values(aws.Region).find((candidate) => candidate === name)
  if (!region) throw new Error(`stageConfig names ${name}, which is not an AWS region`)
  return region
}

function dynamoArgs(table: TableDefinition) {
  return {
    fields: table.fields,
    primaryIndex: table.primaryIndex,
    ...(table.globalIndexes && { globalIndexes: table.globalIndexes }),
    ...(table.ttl && { ttl: table.ttl }),
    deletionProtection: production,
    transform: { table: { pointInTimeRecovery: { enabled: true } } },
  }
}

export const coordination = new sst.aws.Dynamo(
  coordinationTable.resource,
  dynamoArgs(coordinationTable),
)

/**
 * One provider per store region other than the home region (whose resources use the app's
 * own provider): the store table there and that region's API (infra/api.ts) share it.
 */
export const regionProviders = new Map(
  storeTableDefinitions
    .filter((table) => (table.region ?? stageConfig.homeRegion) !== stageConfig.homeRegion)
    .map((table) => {
      const region = table.region!
      const provider = new aws.Provider(`${table.resource}Provider`, { region: awsRegion(region) })
      return [region, provider] as const
    }),
)

/** One store table per region, keyed by its resource name (`StoreEuWest1`). */
export const storeTables = new Map(
  storeTableDefinitions.map((table) => {
    const provider = regionProviders.get(table.region ?? stageConfig.homeRegion)
    const options = provider ? { provider } : undefined
    return [table.resource, new sst.aws.Dynamo(table.resource, dynamoArgs(table), options)] as const
  }),
)

export const bucket = new sst.aws.Bucket(dataBucket.resource, { enforceHttps: true })
