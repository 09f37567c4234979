// sst.config.ts evaluated with recording stand-ins for SST's globals (the SST CLI can't
// run here): the wiring must be complete and least-privilege, every handler must exist,
// export its function and bundle without dev dependencies, and every table must match the
// definition the local bootstrap creates, so AWS and local can't drift.
import {
  adminApiKeySecret,
  allHandlers,
  apiFunction,
  bucketNotifications,
  coordinationTable,
  dataBucket,
  queues as queueDefinitions,
  queueSubscriptions,
  schedules,
  stageConfig,
  tables,
} from '@meridian/aws'
import { createTableInput, repositoryRoot } from '@meridian/local'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  bundleHandler,
  type HandlerBundle,
  productionPackages,
} from '../../support/bundle-functions'
import {
  installSstStandIns,
  OutputPlaceholder,
  type RecordedComponent,
  type StandIns,
} from '../../support/sst-stand-ins'

interface SstConfig {
  app(input: { stage: string }): Record<string, unknown>
  run(): Promise<Record<string, unknown>>
}

let standIns: StandIns
let outputs: Record<string, unknown>
let config: SstConfig
const bundles = new Map<string, HandlerBundle>()

beforeAll(async () => {
  standIns = installSstStandIns('production')
  config = (await import('../../../sst.config')).default as unknown as SstConfig
  outputs = await config.run()
  for (const handler of new Set(allHandlers())) {
    bundles.set(handler, await bundleHandler(repositoryRoot, handler))
  }
}, 120_000)

const allResourceNames = [
  ...tables.map((table) => table.resource),
  ...queueDefinitions.flatMap((queue) => [queue.resource, queue.deadLetter.resource]),
  dataBucket.resource,
  adminApiKeySecret.resource,
]

/** Resource names a bundle's code can name: direct Resource reads and shared definitions. */
function reachableResources(code: string): Set<string> {
  const reachable = new Set<string>()
  for (const name of allResourceNames) {
    const direct = code.includes(`Resource.${name}`) || code.includes(`Resource["${name}"]`)
    const definitions = [
      ...code.matchAll(new RegExp(`(deadLetter:\\s*\\{\\s*)?resource:\\s*"${name}"`, 'g')),
    ]
    // A queue definition names its dead-letter queue without the code reading it.
    if (direct || definitions.some((match) => match[1] === undefined)) reachable.add(name)
  }
  if (code.includes('function storeTableResource(')) {
    for (const table of tables.filter((candidate) => candidate.resource.startsWith('Store'))) {
      reachable.add(table.resource)
    }
  }
  return reachable
}

function linkNames(functionArgs: Record<string, unknown>): string[] {
  const links = (functionArgs.link ?? []) as Array<{ record: RecordedComponent }>
  return links.map((component) => component.record.name).sort()
}

/** Every function infra declares, wherever it is declared (function, subscriber, cron, notification). */
function declaredFunctions(): Array<{ name: string; args: Record<string, unknown> }> {
  const functions: Array<{ name: string; args: Record<string, unknown> }> = []
  for (const fn of standIns.ofType('sst.aws.Function'))
    functions.push({ name: fn.name, args: fn.args })
  for (const queue of standIns.ofType('sst.aws.Queue')) {
    for (const call of queue.calls.filter((c) => c.method === 'subscribe')) {
      functions.push({
        name: `${queue.name}Subscriber`,
        args: call.args[0] as Record<string, unknown>,
      })
    }
  }
  for (const cron of standIns.ofType('sst.aws.Cron')) {
    functions.push({ name: cron.name, args: cron.args.function as Record<string, unknown> })
  }
  for (const bucket of standIns.ofType('sst.aws.Bucket')) {
    for (const call of bucket.calls.filter((c) => c.method === 'notify')) {
      const { notifications } = call.args[0] as {
        notifications: Array<{ name: string; function: Record<string, unknown> }>
      }
      for (const notification of notifications)
        functions.push({ name: notification.name, args: notification.function })
    }
  }
  return functions
}

describe('sst.config.ts app()', () => {
  it('retains and protects production, removes other stages', () => {
    expect(config.app({ stage: 'production' })).toMatchObject({
      name: 'meridian',
      home: 'aws',
      removal: 'retain',
      protect: true,
    })
    expect(config.app({ stage: 'dev' })).toMatchObject({ removal: 'remove', protect: false })
  })

  it('outputs the API URL, the bucket and the table names', () => {
    expect(outputs.api).toEqual(new OutputPlaceholder(apiFunction.name, 'url'))
    expect(outputs.bucket).toEqual(new OutputPlaceholder(dataBucket.resource, 'name'))
    expect(outputs.coordinationTable).toEqual(
      new OutputPlaceholder(coordinationTable.resource, 'name'),
    )
    expect(outputs.storeTables).toHaveLength(stageConfig.storeRegions.length)
  })
})

describe('tables', () => {
  it('declares every table of the shared definitions with the same keys, indexes and TTL', () => {
    const dynamos = standIns.ofType('sst.aws.Dynamo')
    expect(dynamos.map((table) => table.name).sort()).toEqual(
      tables.map((table) => table.resource).sort(),
    )
    for (const table of tables) {
      const declared = standIns.byName(table.resource)!
      expect(declared.args).toMatchObject({
        fields: table.fields,
        primaryIndex: table.primaryIndex,
        ...(table.globalIndexes && { globalIndexes: table.globalIndexes }),
        ...(table.ttl && { ttl: table.ttl }),
        transform: { table: { pointInTimeRecovery: { enabled: true } } },
        deletionProtection: true,
      })
    }
  })

  it('matches what the local bootstrap creates from the same definition', () => {
    for (const table of tables) {
      const declared = standIns.byName(table.resource)!.args as {
        fields: Record<string, string>
        primaryIndex: { hashKey: string; rangeKey?: string }
        globalIndexes?: Record<string, { hashKey: string; rangeKey?: string }>
      }
      const local = createTableInput('name', table)
      const key = (index: { hashKey: string; rangeKey?: string }) =>
        [index.hashKey, index.rangeKey].filter(Boolean)
      expect(local.KeySchema?.map((k) => k.AttributeName)).toEqual(key(declared.primaryIndex))
      expect(
        Object.fromEntries(
          local.AttributeDefinitions!.map((a) => [a.AttributeName, a.AttributeType]),
        ),
      ).toEqual(
        Object.fromEntries(
          Object.entries(declared.fields).map(([name, type]) => [
            name,
            type === 'string' ? 'S' : type === 'number' ? 'N' : 'B',
          ]),
        ),
      )
      expect(
        Object.fromEntries(
          (local.GlobalSecondaryIndexes ?? []).map((index) => [
            index.IndexName,
            index.KeySchema!.map((k) => k.AttributeName),
          ]),
        ),
      ).toEqual(
        Object.fromEntries(
          Object.entries(declared.globalIndexes ?? {}).map(([name, index]) => [name, key(index)]),
        ),
      )
    }
  })

  it('puts each store table in its region through a provider', () => {
    for (const region of stageConfig.storeRegions) {
      const table = standIns
        .ofType('sst.aws.Dynamo')
        .find((candidate) => candidate.name.toLowerCase() === `store${region.replaceAll('-', '')}`)!
      const provider = (table.options?.provider as { record: RecordedComponent } | undefined)
        ?.record
      if (region === stageConfig.homeRegion) expect(provider).toBeUndefined()
      else expect(provider?.args).toEqual({ region })
    }
  })

  it('declares every index the code queries', () => {
    const indexes = new Set(Object.keys(coordinationTable.globalIndexes))
    for (const bundle of bundles.values()) {
      for (const match of bundle.code.matchAll(/IndexName:\s*"([^"]+)"/g))
        expect(indexes).toContain(match[1])
    }
  })
})

describe('queues', () => {
  it('gives every work queue a dead-letter queue and exactly one subscriber with partial batch responses', () => {
    for (const definition of queueDefinitions) {
      const queue = standIns.byName(definition.resource)!
      const deadLetter = standIns.byName(definition.deadLetter.resource)!
      expect(queue.args.dlq).toEqual({
        queue: new OutputPlaceholder(deadLetter.name, 'arn'),
        retry: definition.deadLetter.maxReceiveCount,
      })
      const subscriptions = queue.calls.filter((call) => call.method === 'subscribe')
      expect(subscriptions, `${definition.resource} has no subscriber`).toHaveLength(1)
      expect(subscriptions[0]!.args[1]).toMatchObject({ batch: { partialResponses: true } })
    }
  })

  it('keeps each visibility timeout at least 6× its subscriber timeout and batch sizes within SQS bounds', () => {
    for (const subscription of queueSubscriptions) {
      expect(subscription.queue.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(
        6 * subscription.timeoutSeconds,
      )
      expect(subscription.batchSize).toBeGreaterThanOrEqual(1)
      expect(subscription.batchSize).toBeLessThanOrEqual(10)
    }
  })
  it('scales every queue subscriber on AWS by the stage config, not by the local machine', () => {
    for (const subscription of queueSubscriptions) {
      const queue = standIns.byName(subscription.queue.resource)!
      const subscribe = queue.calls.find((call) => call.method === 'subscribe')!
      const expected =
        stageConfig.subscriberMaximumConcurrencyByQueue[subscription.queue.resource] ??
        stageConfig.subscriberMaximumConcurrency
      expect(subscribe.args[1]).toMatchObject({
        transform: { eventSourceMapping: { scalingConfig: { maximumConcurrency: expected } } },
      })
      // Within the SQS event source's bounds, and sized for real jobs, not two local cores.
      expect(expected).toBeGreaterThanOrEqual(2)
      expect(expected).toBeLessThanOrEqual(1000)
      expect(expected).toBeGreaterThanOrEqual(50)
    }
  })
})

describe('functions', () => {
  it('declares one function per handler of the shared wiring, on Node 22 arm64', () => {
    const functions = declaredFunctions()
    expect(functions.map((fn) => fn.args.handler).sort()).toEqual(allHandlers().sort())
    for (const fn of functions)
      expect(fn.args).toMatchObject({ runtime: 'nodejs22.x', architecture: 'arm64' })
    expect(standIns.byName(apiFunction.name)?.args).toMatchObject({ url: true, streaming: true })
    expect(standIns.ofType('sst.aws.Cron')).toHaveLength(schedules.length)
    const notifications = standIns
      .ofType('sst.aws.Bucket')[0]!
      .calls.filter((call) => call.method === 'notify')
    expect(notifications).toHaveLength(bucketNotifications.length > 0 ? 1 : 0)
  })

  it('finds every handler file and its exported function', () => {
    for (const bundle of bundles.values()) {
      expect(bundle.exists, `${bundle.entry} is missing`).toBe(true)
      expect(bundle.exports, `${bundle.entry} does not export ${bundle.exportName}`).toContain(
        bundle.exportName,
      )
    }
  })

  it('links each function to exactly the resources its code can reach', () => {
    for (const fn of declaredFunctions()) {
      const bundle = bundles.get(fn.args.handler as string)!
      expect(linkNames(fn.args), `${fn.name} (${bundle.handler})`).toEqual(
        [...reachableResources(bundle.code)].sort(),
      )
    }
  })

  it('bundles every function without a dev dependency, and reports the sizes', () => {
    const production = productionPackages(repositoryRoot)
    const report = [...bundles.values()].map((bundle) => ({
      handler: bundle.handler,
      kib: Math.round(bundle.bytes / 1024),
      packages: bundle.packages.length,
    }))
    console.table(report)
    for (const bundle of bundles.values()) {
      expect(
        bundle.packages.filter((name) => !production.has(name)),
        bundle.handler,
      ).toEqual([])
    }
  })

  it('bundles the web pages into the API function: no file is read for them at run time', () => {
    const api = bundles.get('functions/api.handler')!
    expect(api.inputs).toEqual(
      expect.arrayContaining([
        'packages/api/src/web/dashboard-assets.generated.ts',
        'packages/api/src/web/swagger-ui-assets.generated.ts',
      ]),
    )
    // The strings themselves: Swagger UI's bundle and the dashboard's module.
    expect(api.code).toContain('SwaggerUIBundle')
    expect(api.code).toContain('meridian.apiKey')
  })

  it('bundles no X-Ray SDK (no function enables active tracing) and one copy of Powertools commons', () => {
    for (const bundle of bundles.values()) {
      expect(
        bundle.packages.filter((name) => name.includes('xray')),
        bundle.handler,
      ).toEqual([])
      const commons = bundle.inputs.filter((input) =>
        input.includes('@aws-lambda-powertools/commons/'),
      )
      const copies = new Set(commons.map((input) => input.split('/commons/')[0]))
      expect(copies.size, bundle.handler).toBeLessThanOrEqual(1)
    }
  })
})
