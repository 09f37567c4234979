// The subset of SST v3's platform globals that sst.config.ts and infra/ use, typed from
// SST's component APIs (platform/src/components/aws/*.ts). `sst install` generates the full
// declarations under .sst/platform, which needs the network; this file lets `npm run
// typecheck` cover infra/ without it, and the recording stand-ins in test/support mirror it.
type SstInput<T> = T | { toString(): string }

interface SstOutputs {
  readonly name: unknown
  readonly arn: unknown
  readonly url: unknown
}

interface SstFunctionArgs {
  handler: string
  runtime?: 'nodejs20.x' | 'nodejs22.x'
  architecture?: 'x86_64' | 'arm64'
  timeout?: string
  memory?: string
  url?: boolean
  streaming?: boolean
  link?: unknown[]
  environment?: Record<string, string>
}

interface SstDynamoArgs {
  fields: Record<string, 'string' | 'number' | 'binary'>
  primaryIndex: { hashKey: string; rangeKey?: string }
  globalIndexes?: Record<string, { hashKey: string; rangeKey?: string }>
  ttl?: string
  deletionProtection?: boolean
  transform?: { table?: Record<string, unknown> }
}

interface SstQueueArgs {
  visibilityTimeout?: string
  dlq?: SstInput<string> | { queue: unknown; retry?: number }
}

interface SstQueueSubscribeArgs {
  batch?: { size?: number; window?: string; partialResponses?: boolean }
  transform?: { eventSourceMapping?: Record<string, unknown> }
}

interface SstBucketNotification {
  name: string
  function?: SstFunctionArgs
  events?: string[]
  filterPrefix?: string
  filterSuffix?: string
}

interface SstComponentOptions {
  provider?: unknown
}

declare const $config: <
  T extends {
    app(input: { stage: string }): {
      name: string
      home: 'aws'
      removal?: 'remove' | 'retain' | 'retain-all'
      protect?: boolean
      providers?: Record<string, unknown>
    }
    run(): Promise<Record<string, unknown> | undefined>
  },
>(
  config: T,
) => T

declare const $app: { readonly name: string; readonly stage: string }

declare const sst: {
  Secret: new (name: string, placeholder?: string) => { readonly value: unknown }
  aws: {
    Dynamo: new (name: string, args: SstDynamoArgs, options?: SstComponentOptions) => SstOutputs
    Queue: new (
      name: string,
      args?: SstQueueArgs,
    ) => SstOutputs & {
      subscribe(subscriber: SstFunctionArgs | string, args?: SstQueueSubscribeArgs): unknown
    }
    Bucket: new (
      name: string,
      args?: { enforceHttps?: boolean; versioning?: boolean },
    ) => SstOutputs & { notify(args: { notifications: SstBucketNotification[] }): unknown }
    Function: new (name: string, args: SstFunctionArgs) => SstOutputs
    Cron: new (name: string, args: { schedule: string; function: SstFunctionArgs }) => unknown
  }
}

declare const aws: {
  Provider: new (name: string, args: { region: string }) => unknown
}
