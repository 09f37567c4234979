// Tables and the bucket, from the shared definitions in packages/aws. Each store table
// lives in its own region through an aws.Provider for that region.
import {
  coordinationTable,
  dataBucket,
  stageConfig,
  storeTables as storeTableDefinitions,
} from '../packages/aws/src'

export const coordination = new sst.aws.Dynamo(coordinationTable.resource, {
  fields: coordinationTable.fields,
  primaryIndex: coordinationTable.primaryIndex,
  globalIndexes: coordinationTable.globalIndexes,
  ttl: coordinationTable.ttl,
})

export const storeTables = storeTableDefinitions.map((table) => {
  const region = table.region ?? stageConfig.homeRegion
  const provider =
    region === stageConfig.homeRegion
      ? undefined
      : new aws.Provider(`Provider${table.resource}`, { region })
  return new sst.aws.Dynamo(
    table.resource,
    { fields: table.fields, primaryIndex: table.primaryIndex },
    provider ? { provider } : undefined,
  )
})

export const bucket = new sst.aws.Bucket(dataBucket.resource)
