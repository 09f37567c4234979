// What every API composition root (the home API, functions/api-app.ts, and each regional
// API, functions/regional-api-app.ts) wires the same way: API keys in the coordination
// table, the bootstrap admin key, the per-key rate limit, and structured request logs.
import { Logger } from '@aws-lambda-powertools/logger'
import {
  type AppDependencies,
  Authenticator,
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
} from '@meridian/aws'
import { linkedName, linkedValue } from '@meridian/aws/linked'

/** Keys, scopes and the rate limit (requests per second per key, across all instances). */
export function apiSecurity(): NonNullable<AppDependencies['security']> {
  const coordinationTableName = linkedName(coordinationTable.resource)
  const keyStore = new DynamoApiKeyStore(dynamoClient(), coordinationTableName)
  return {
    keyStore,
    authenticator: new Authenticator({
      store: keyStore,
      bootstrapAdminKey: linkedValue(adminApiKeySecret.resource),
    }),
    rateLimiter: new LeasingRateLimiter(
      new DynamoRateWindowCounter(dynamoClient(), coordinationTableName),
      settings().MERIDIAN_RATE_LIMIT_PER_SECOND,
    ),
  }
}

/** One log line per request and per unexpected error (never secrets). */
export function apiLogging(serviceName: string): Pick<AppDependencies, 'logError' | 'logRequest'> {
  const logger = new Logger({ serviceName })
  return {
    logError: (error) =>
      logger.error('unhandled error', {
        error: error as Error,
        correlationId: currentCorrelationId(),
      }),
    logRequest: (entry) => logger.info('request', { ...entry }),
  }
}
