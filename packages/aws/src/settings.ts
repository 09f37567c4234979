// Every environment variable Meridian's own code reads, parsed once by one zod schema:
// by `npm start` before it starts anything, and by each function at cold start. A bad
// value stops the process with one line that names the variable, the value and the form
// it should have; nothing falls back silently or turns into NaN later.
import { z } from 'zod'

function unsetIfEmpty(value: unknown): unknown {
  return value === '' ? undefined : value
}

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  const expected =
    max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`
  return z
    .string()
    .regex(/^\d+$/, expected)
    .transform(Number)
    .pipe(z.number().int().min(min, expected).max(max, expected))
    .meta({ description: expected })
}

const flag = z
  .enum(['1', '0', 'true', 'false'], '1, 0, true or false')
  .transform((value) => value === '1' || value === 'true')
  .meta({ description: '1, 0, true or false' })

// The shape generateApiKey makes (packages/api/src/auth/api-keys.ts).
const apiKey = z
  .string()
  .regex(/^mrd_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/, 'an API key: mrd_<16 hex digits>_<43 characters>')
  .meta({ description: 'an API key: mrd_<16 hex digits>_<43 characters>' })

const awsRegion = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as us-east-1')
  .meta({ description: 'an AWS region such as us-east-1' })

const httpUrl = z
  .string()
  .refine(
    (value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol),
    'an http(s) URL such as https://abc.lambda-url.us-east-1.on.aws/',
  )
  .meta({ description: 'an http(s) URL such as https://abc.lambda-url.us-east-1.on.aws/' })

const regionEndpointsForm =
  'region=url pairs separated by commas, e.g. eu-west-1=http://127.0.0.1:8001'
const regionEndpoints = z
  .string()
  .transform((value, context) => {
    const endpoints: Record<string, string> = {}
    for (const pair of value.split(',').filter((part) => part.trim() !== '')) {
      const [region, url] = pair.split('=').map((part) => part.trim())
      if (!region || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region) || !url || !URL.canParse(url)) {
        context.addIssue({ code: 'custom', message: regionEndpointsForm })
        return z.NEVER
      }
      endpoints[region] = url
    }
    return endpoints
  })
  .meta({ description: regionEndpointsForm })

/** An unset or empty variable takes the schema's default. */
function variable<Schema extends z.ZodType>(schema: Schema) {
  return z.preprocess(unsetIfEmpty, schema)
}

export const settingsSchema = z.object({
  // Read by the functions (on Lambda and under the local runtime).
  AWS_REGION: variable(awsRegion.optional()),
  MERIDIAN_RATE_LIMIT_PER_SECOND: variable(integer(1).default(100)),
  MERIDIAN_KV_REPLICAS: variable(integer(1).default(1)),
  MERIDIAN_KV_WRITE_QUORUM: variable(integer(1).default(1)),
  MERIDIAN_RING_STALENESS_MS: variable(integer(0).default(5_000)),
  // Per attempt, on calls to the KV store tables (two attempts): a region that doesn't
  // answer within it counts as failing (packages/store failure-detector.ts).
  MERIDIAN_STORE_TIMEOUT_MS: variable(integer(50).default(1_000)),
  // The DynamoDB endpoint of some store regions, when not the SDK's own (a VPC endpoint;
  // a fault proxy in front of the local engine in `npm run bench -- failover`).
  MERIDIAN_STORE_ENDPOINTS: variable(regionEndpoints.default({})),
  MERIDIAN_RUNNING_JOBS_PER_TENANT_MAX: variable(integer(1).default(10)),
  // Ring migration range tasks: batches (of up to 50 keys) in flight per task, and an
  // optional bound on the keys per second one task hands over (unbounded when unset).
  MERIDIAN_MIGRATION_CONCURRENCY: variable(integer(1, 64).default(8)),
  MERIDIAN_MIGRATION_KEYS_PER_SECOND: variable(integer(1).optional()),
  // A regional API (edge mode, functions/regional-api.ts): the store region it serves, and
  // the home region's API, where it sends every request it does not serve itself.
  MERIDIAN_SERVED_REGION: variable(awsRegion.optional()),
  MERIDIAN_HOME_API_URL: variable(httpUrl.optional()),
  // Read by `npm start` only.
  PORT: variable(integer(0, 65_535).default(3000)),
  MERIDIAN_PERSIST: variable(flag.default(true)),
  MERIDIAN_DATA_DIR: variable(z.string().default('.data')),
  MERIDIAN_CONCURRENCY: variable(integer(1, 256).optional()),
  MERIDIAN_ADMIN_KEY: variable(apiKey.optional()),
  MERIDIAN_EDGE: variable(flag.default(true)),
})

export type Settings = z.output<typeof settingsSchema>
export type SettingName = keyof Settings
export const settingNames = Object.keys(settingsSchema.shape) as SettingName[]

/** Variables whose value an error message must not repeat. */
const secretVariables = new Set(['MERIDIAN_ADMIN_KEY'])

export class SettingsError extends Error {
  override name = 'SettingsError'
  constructor(
    readonly variable: string,
    readonly value: string | undefined,
    readonly expected: string,
  ) {
    const shown = secretVariables.has(variable)
      ? `<${value?.length ?? 0} characters, not shown>`
      : JSON.stringify(value ?? '')
    super(`${variable}=${shown} is not valid: expected ${expected}`)
  }
}

/** Parses the environment; throws a SettingsError for the first bad variable. */
export function parseSettings(environment: Record<string, string | undefined>): Settings {
  const result = settingsSchema.safeParse(environment)
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  const variable = String(issue.path[0])
  throw new SettingsError(variable, environment[variable], issue.message)
}

let cached: Settings | undefined

/** This process's settings, parsed from process.env on first use (a function's cold start). */
export function settings(): Settings {
  cached ??= parseSettings(process.env)
  return cached
}
