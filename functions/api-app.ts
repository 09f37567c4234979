// The HTTP API's composition root: the Hono app with the AWS implementation of every
// service. functions/api.ts adapts it to Lambda; the local runtime serves it with Node.
// Features wire their services here.
import { Logger } from '@aws-lambda-powertools/logger'
import {
  Authenticator,
  awsEngineProbes,
  createApp,
  DynamoApiKeyStore,
  DynamoRateWindowCounter,
  LeasingRateLimiter,
} from '@meridian/api'
import {
  adminApiKeySecret,
  coordinationTable,
  currentCorrelationId,
  dynamoClient,
  settings,
  stageConfig,
} from '@meridian/aws'
import { linkedName, linkedValue } from '@meridian/aws/linked'
import { DynamoLockTable, LockService } from '@meridian/lock'
import { regionDetector } from './kv-service'
import { mapReduceService } from './mapreduce-service'
import { ringMigrationService } from './ring-migrations'
import { storeServices } from './store-services'

function lockService() {
  const table = new DynamoLockTable(dynamoClient(), coordinationTableName)
  return new LockService({ table, listing: table })
}

/** Requests per second per API key, across all instances. */
const requestsPerSecondPerKeyMax = settings().MERIDIAN_RATE_LIMIT_PER_SECOND

const coordinationTableName = linkedName(coordinationTable.resource)
const keyStore = new DynamoApiKeyStore(dynamoClient(), coordinationTableName)

const logger = new Logger({ serviceName: 'meridian-api' })

const { kv, transactions } = storeServices()

export const app = createApp({
  probes: awsEngineProbes(),
  logError: (error) =>
    logger.error('unhandled error', {
      error: error as Error,
      correlationId: currentCorrelationId(),
    }),
  logRequest: (entry) => logger.info('request', { ...entry }),
  security: {
    keyStore,
    authenticator: new Authenticator({
      store: keyStore,
      bootstrapAdminKey: linkedValue(adminApiKeySecret.resource),
    }),
    rateLimiter: new LeasingRateLimiter(
      new DynamoRateWindowCounter(dynamoClient(), coordinationTableName),
      requestsPerSecondPerKeyMax,
    ),
  },
  locks: lockService(),
  jobs: mapReduceService(undefined, { limitRunningJobs: true }),
  transactions,
  kv,
  ringMigrations: ringMigrationService(kv),
  regions: { detector: regionDetector, names: stageConfig.storeRegions },
})
