/**
 * Meridian's HTTP API as a Hono app. `createApp` takes its dependencies (engine probes,
 * and as features land, the stores, lock table and job services) so tests call
 * `app.request(...)` with no server, the Lambda adapter in functions/api.ts wires the AWS
 * implementations, and the local runtime serves the same app with @hono/node-server.
 */
export type { MeridianApi, MeridianSchema } from './api-type'
export {
  type App,
  type AppDependencies,
  type AppEnv,
  createApp,
  defaultTenant,
  ringHintReloadIntervalMs,
} from './app'
export { type ApiKeyStore, DynamoApiKeyStore } from './auth/api-key-store'
export {
  type ApiKeyRecord,
  generateApiKey,
  type Principal,
  type Scope,
  scopes,
} from './auth/api-keys'
export { Authenticator } from './auth/authenticator'
export { requiredScope } from './auth/required-scope'
export { awsEngineProbes, awsRegionalEngineProbes } from './aws-probes'
export { type EngineProbe, probeEngines, sharedProbeRound } from './health'
export {
  DynamoRateWindowCounter,
  LeasingRateLimiter,
  type RateLimiter,
  type RateWindowCounter,
} from './limits/rate-limiter'
export {
  type ProblemDetails,
  ProblemError,
  problemContentType,
  problemResponse,
  problemType,
} from './problem'
export { forwardedFromHeader, type RegionalMode } from './regional'
export { eventStreamBudgetMs, jobEventStream, reconnectRetryMs } from './routes/job-events'
export { webPaths } from './web'
