// The HTTP API's composition root: the Hono app with the AWS implementation of every
// service. functions/api.ts adapts it to Lambda; the local runtime serves it with Node.
// Features wire their services here.
import { awsEngineProbes, createApp } from '@meridian/api'
import { coordinationTable, dynamoClient, settings, stageConfig } from '@meridian/aws'
import { linkedName } from '@meridian/aws/linked'
import { DynamoLockTable, LockService } from '@meridian/lock'
import { apiLogging, apiSecurity } from './api-security'
import { regionDetector } from './kv-service'
import { mapReduceService } from './mapreduce-service'
import { ringMigrationService } from './ring-migrations'
import { storeServices } from './store-services'

function lockService() {
  const table = new DynamoLockTable(dynamoClient(), coordinationTableName)
  return new LockService({ table, listing: table })
}

const coordinationTableName = linkedName(coordinationTable.resource)

const { kv, transactions } = storeServices()

export const app = createApp({
  probes: awsEngineProbes(),
  servedRegion: settings().AWS_REGION ?? stageConfig.homeRegion,
  ...apiLogging('meridian-api'),
  security: apiSecurity(),
  locks: lockService(),
  jobs: mapReduceService(undefined, { limitRunningJobs: true }),
  transactions,
  kv,
  ringMigrations: ringMigrationService(kv),
  regions: { detector: regionDetector, names: stageConfig.storeRegions },
})
