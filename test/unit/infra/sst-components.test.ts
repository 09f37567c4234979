// sst.config.ts run by SST's real components (the platform of the installed `sst`, from
// .sst/platform) on Pulumi's mock runtime, for the production and the dev stage; the
// assertions are on the AWS resources those components create (aws.lambda.Function,
// EventSourceMapping, sqs.Queue, dynamodb.Table, iam.Role, ...), as `sst deploy` would send
// them to AWS. This replaces the recording stand-ins that mirrored what SST was read to do:
// every check of the old stand-in test moved here, onto the real graph:
// - app(): removal/protect per stage  → also the retainOnDelete SST's removal policy puts
//   on tables and the bucket, and the `_protect` output;
// - outputs                             → the real function URL, bucket and table names;
// - tables = shared definitions = local bootstrap, store tables through regional
//   providers, every queried index exists → on dynamodb.Table (attributes, keys, GSIs, TTL,
//   PITR, deletion protection per stage) and the region its provider puts it in;
// - DLQ + one subscriber with partial batch responses, concurrency, visibility ≥ 6× timeout
//   → on sqs.Queue (redrive policy) and lambda.EventSourceMapping, against the deployed
//   function's timeout;
// - one function per handler on Node 22 arm64, URL with streaming, crons, notification
//   → on lambda.Function, FunctionUrl, cloudwatch.EventRule/EventTarget, s3.BucketNotification;
// - links = what the code reaches, bundles (handler exists, exports, no dev dependency, no
//   X-Ray, one Powertools commons) → on the links SST's Runtime.Build receives and the
//   bundles built for it, and on the IAM policy SST derives from the links.
// Nothing is left to the stand-ins, so test/support/sst-stand-ins.ts is gone.

import { readdirSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join } from 'node:path'
import { runInNewContext } from 'node:vm'
import {
  adminApiKeySecret,
  allHandlers,
  apiFunction,
  awsMaximumConcurrency,
  bucketNotifications,
  coordinationTable,
  dataBucket,
  edgeFunction,
  queues as queueDefinitions,
  queueSubscriptions,
  regionalApiFunction,
  schedules,
  stageConfig,
  storeTableResource,
  type TableDefinition,
  tables,
} from '@meridian/aws'
import { edgeConfigHeaders, parseEdgeConfig } from '@meridian/edge'
import { createTableInput, repositoryRoot } from '@meridian/local'
import type { CloudFrontRequest, CloudFrontRequestEvent } from 'aws-lambda'
import { beforeAll, describe, expect, it } from 'vitest'
import { productionPackages } from '../../support/bundle-functions'
import { originRequestEvent } from '../../support/cloudfront-event'
import {
  type BuildRequest,
  type RecordedResource,
  runSstConfig,
  type SstRun,
} from '../../support/sst-mock-runtime'

let production: SstRun
let dev: SstRun

const adminKeyValue = 'mrd_test_admin_key'

beforeAll(async () => {
  const options = {
    homeRegion: stageConfig.homeRegion,
    secrets: { [adminApiKeySecret.resource]: adminKeyValue },
  }
  production = await runSstConfig('production', options)
  dev = await runSstConfig('dev', options)
}, 180_000)

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

/** Every handler infra deploys, with what it declares in packages/aws wiring. */
const declaredHandlers = [
  {
    handler: apiFunction.handler,
    timeoutSeconds: apiFunction.timeoutSeconds,
    links: apiFunction.links,
  },
  ...queueSubscriptions,
  ...schedules,
  ...bucketNotifications,
]

function lambdaFunctions(run: SstRun) {
  return run.ofType('aws:lambda/function:Function')
}

/** The Lambda@Edge trigger: the one function SST does not build (infra/edge.ts). */
function edgeTrigger(run: SstRun): RecordedResource {
  return run.byName(`${edgeFunction.name}Function`)
}

/** The functions SST builds and deploys: every function but the edge trigger. */
function sstFunctions(run: SstRun): RecordedResource[] {
  return lambdaFunctions(run).filter((fn) => fn.name !== `${edgeFunction.name}Function`)
}

function lambdaFor(run: SstRun, handler: string): RecordedResource {
  const found = lambdaFunctions(run).filter((fn) => fn.inputs.handler === handler)
  expect(found, `functions with handler ${handler}`).toHaveLength(1)
  return found[0]!
}

/** The role resource a function runs as, found by the ARN the function was given. */
function roleOf(run: SstRun, fn: RecordedResource): RecordedResource {
  return run.ofType('aws:iam/role:Role').find((role) => role.state.arn === fn.inputs.role)!
}

/** A role's trust policy, given as an object or its JSON (the AWS provider takes either). */
function trustOf(role: RecordedResource): { Statement: unknown[] } {
  const policy = role.inputs.assumeRolePolicy
  return typeof policy === 'string' ? JSON.parse(policy) : (policy as { Statement: unknown[] })
}

interface PolicyStatement {
  Effect: string
  Action: string[]
  Resource: string[]
  Principal?: Record<string, string[]>
  Condition?: Record<string, Record<string, string[]>>
}

function inlineStatements(role: RecordedResource): PolicyStatement[] {
  const policies = role.inputs.inlinePolicies as Array<{ name: string; policy: string }>
  return policies.flatMap((policy) => JSON.parse(policy.policy).Statement as PolicyStatement[])
}

/** Every (action, resource) a policy allows, as `action on resource` strings. */
function grants(statements: PolicyStatement[]): string[] {
  return statements
    .filter((statement) => statement.Effect === 'Allow')
    .flatMap((statement) =>
      statement.Action.flatMap((action) => statement.Resource.map((arn) => `${action} on ${arn}`)),
    )
    .sort()
}

function tableResource(run: SstRun, table: TableDefinition): RecordedResource {
  return run.byName(`${table.resource}Table`)
}

function queueResource(run: SstRun, resource: string): RecordedResource {
  return run.byName(`${resource}Queue`)
}

/** What linking grants for one linked resource, from the real ARNs of this run. */
function expectedLinkGrants(run: SstRun, name: string): string[] {
  const table = tables.find((candidate) => candidate.resource === name)
  if (table) {
    const arn = String(tableResource(run, table).state.arn)
    return [`dynamodb:* on ${arn}`, `dynamodb:* on ${arn}/*`]
  }
  if (queueDefinitions.some((q) => q.resource === name || q.deadLetter.resource === name)) {
    return [`sqs:* on ${queueResource(run, name).state.arn}`]
  }
  if (name === dataBucket.resource) {
    const arn = String(run.byName(`${dataBucket.resource}Bucket`).state.arn)
    return [`s3:* on ${arn}`, `s3:* on ${arn}/*`]
  }
  // A secret's value travels in the function's encrypted link data; it grants nothing.
  if (name === adminApiKeySecret.resource) return []
  throw new Error(`no expected grant for ${name}`)
}

function buildFor(run: SstRun, handler: string): BuildRequest {
  const found = run.builds.filter((build) => build.handler === handler)
  expect(found, `Runtime.Build calls for ${handler}`).toHaveLength(1)
  return found[0]!
}

describe('the app: removal and protection per stage', () => {
  it('retains and protects production, removes other stages', () => {
    expect(production.app).toMatchObject({
      name: 'meridian',
      home: 'aws',
      removal: 'retain',
      protect: true,
    })
    expect(dev.app).toMatchObject({ removal: 'remove', protect: false })
    expect(production.outputs._protect).toBe(true)
    expect(dev.outputs._protect).toBe(false)
  })

  it('keeps production tables and the bucket on removal (SST puts retainOnDelete on them), not dev ones', () => {
    const kept = (run: SstRun) =>
      run.resources
        .filter((resource) => resource.options.retainOnDelete)
        .map((resource) => resource.name)
        .sort()
    expect(kept(production)).toEqual(
      [...tables.map((table) => `${table.resource}Table`), `${dataBucket.resource}Bucket`].sort(),
    )
    expect(kept(dev)).toEqual([])
  })

  it('outputs the API URL, the bucket and the table names of the created resources', () => {
    for (const run of [production, dev]) {
      expect(run.outputs.api).toBe(run.byName(`${apiFunction.name}Url`).state.functionUrl)
      expect(run.outputs.bucket).toBe(run.byName(`${dataBucket.resource}Bucket`).state.bucket)
      expect(run.outputs.coordinationTable).toBe(tableResource(run, coordinationTable).inputs.name)
      expect(run.outputs.storeTables).toEqual(
        tables
          .filter((table) => table.resource.startsWith('Store'))
          .map((table) => tableResource(run, table).inputs.name),
      )
    }
  })
})

describe('tables', () => {
  const attributeType = { string: 'S', number: 'N', binary: 'B' } as const

  it('creates each table of the shared definitions on demand, with its keys, indexes, TTL and PITR', () => {
    for (const run of [production, dev]) {
      expect(run.ofType('aws:dynamodb/table:Table')).toHaveLength(tables.length)
      for (const table of tables) {
        const created = tableResource(run, table)
        expect(created.inputs).toMatchObject({
          billingMode: 'PAY_PER_REQUEST',
          hashKey: table.primaryIndex.hashKey,
          pointInTimeRecovery: { enabled: true },
          streamEnabled: false,
        })
        expect(created.inputs.rangeKey).toBe(table.primaryIndex.rangeKey)
        expect(created.inputs.attributes).toEqual(
          Object.entries(table.fields).map(([name, type]) => ({ name, type: attributeType[type] })),
        )
        expect(created.inputs.globalSecondaryIndexes).toEqual(
          Object.entries(table.globalIndexes ?? {}).map(([name, index]) => ({
            name,
            hashKey: index.hashKey,
            ...(index.rangeKey && { rangeKey: index.rangeKey }),
            projectionType: 'ALL',
          })),
        )
        expect(created.inputs.ttl).toEqual(
          table.ttl ? { attributeName: table.ttl, enabled: true } : undefined,
        )
      }
    }
  })

  it('protects production tables from deletion, not dev ones', () => {
    for (const table of tables) {
      expect(tableResource(production, table).inputs.deletionProtectionEnabled).toBe(true)
      expect(tableResource(dev, table).inputs.deletionProtectionEnabled).toBe(false)
    }
  })

  it('matches what the local bootstrap creates from the same definition', () => {
    for (const table of tables) {
      const created = tableResource(production, table).inputs as {
        attributes: Array<{ name: string; type: string }>
        hashKey: string
        rangeKey?: string
        globalSecondaryIndexes: Array<{ name: string; hashKey: string; rangeKey?: string }>
      }
      const local = createTableInput('name', table)
      expect(local.KeySchema?.map((key) => key.AttributeName)).toEqual(
        [created.hashKey, created.rangeKey].filter(Boolean),
      )
      expect(
        Object.fromEntries(
          local.AttributeDefinitions!.map((a) => [a.AttributeName, a.AttributeType]),
        ),
      ).toEqual(Object.fromEntries(created.attributes.map((a) => [a.name, a.type])))
      expect(
        Object.fromEntries(
          (local.GlobalSecondaryIndexes ?? []).map((index) => [
            index.IndexName,
            index.KeySchema!.map((key) => key.AttributeName),
          ]),
        ),
      ).toEqual(
        Object.fromEntries(
          created.globalSecondaryIndexes.map((index) => [
            index.name,
            [index.hashKey, index.rangeKey].filter(Boolean),
          ]),
        ),
      )
    }
  })

  it('creates each store table in its region through a provider for that region', () => {
    for (const table of tables.filter((candidate) => candidate.resource.startsWith('Store'))) {
      const created = tableResource(production, table)
      const region = table.region ?? stageConfig.homeRegion
      expect(created.region, table.resource).toBe(region)
      if (region === stageConfig.homeRegion) {
        expect(created.provider).toBeUndefined()
      } else {
        const provider = production.byName(`${table.resource}Provider`)
        expect(provider.type).toBe('pulumi:providers:aws')
        expect(provider.inputs.region).toBe(region)
        expect(created.provider).toContain(`::${table.resource}Provider::`)
      }
    }
    expect(tableResource(production, coordinationTable).region).toBe(stageConfig.homeRegion)
  })

  it('declares every index the code queries', () => {
    const indexes = new Set(Object.keys(coordinationTable.globalIndexes))
    for (const build of production.builds) {
      for (const match of build.bundle.code.matchAll(/IndexName:\s*"([^"]+)"/g))
        expect(indexes).toContain(match[1])
    }
  })
})

describe('queues', () => {
  it('redrives every work queue to its dead-letter queue after maxReceiveCount receives', () => {
    for (const run of [production, dev]) {
      expect(run.ofType('aws:sqs/queue:Queue')).toHaveLength(2 * queueDefinitions.length)
      for (const definition of queueDefinitions) {
        const queue = queueResource(run, definition.resource)
        const deadLetter = queueResource(run, definition.deadLetter.resource)
        expect(queue.inputs.visibilityTimeoutSeconds).toBe(definition.visibilityTimeoutSeconds)
        expect(JSON.parse(String(queue.inputs.redrivePolicy))).toEqual({
          deadLetterTargetArn: deadLetter.state.arn,
          maxReceiveCount: definition.deadLetter.maxReceiveCount,
        })
        expect(deadLetter.inputs.redrivePolicy).toBeUndefined()
      }
    }
  })

  it('gives every work queue exactly one event source mapping: its batch size, partial batch responses, no batching window, bounded concurrency', () => {
    const mappings = production.ofType('aws:lambda/eventSourceMapping:EventSourceMapping')
    expect(mappings).toHaveLength(queueSubscriptions.length)
    for (const subscription of queueSubscriptions) {
      const queue = queueResource(production, subscription.queue.resource)
      const forQueue = mappings.filter(
        (mapping) => mapping.inputs.eventSourceArn === queue.state.arn,
      )
      expect(forQueue, `${subscription.queue.resource} subscribers`).toHaveLength(1)
      const mapping = forQueue[0]!
      expect(mapping.inputs).toMatchObject({
        batchSize: subscription.batchSize,
        functionResponseTypes: ['ReportBatchItemFailures'],
        maximumBatchingWindowInSeconds: 0,
        scalingConfig: { maximumConcurrency: awsMaximumConcurrency(subscription.queue.resource) },
      })
      // The mapping invokes the function built from the subscription's handler.
      expect(mapping.inputs.functionName).toBe(
        lambdaFor(production, subscription.handler).inputs.name,
      )
      // Within the SQS event source's bounds, and sized for real jobs, not two local cores.
      const concurrency = awsMaximumConcurrency(subscription.queue.resource)
      expect(concurrency).toBeGreaterThanOrEqual(50)
      expect(concurrency).toBeLessThanOrEqual(1000)
      expect(subscription.batchSize).toBeGreaterThanOrEqual(1)
      expect(subscription.batchSize).toBeLessThanOrEqual(10)
    }
  })

  it('keeps each visibility timeout at least 6× the deployed subscriber timeout', () => {
    for (const subscription of queueSubscriptions) {
      const queue = queueResource(production, subscription.queue.resource)
      const fn = lambdaFor(production, subscription.handler)
      expect(fn.inputs.timeout).toBe(subscription.timeoutSeconds)
      expect(Number(queue.inputs.visibilityTimeoutSeconds)).toBeGreaterThanOrEqual(
        6 * Number(fn.inputs.timeout),
      )
    }
  })
})

describe('functions', () => {
  it('deploys one function per handler of the shared wiring: Node 22, arm64, 1024 MB, its timeout, no active tracing', () => {
    for (const run of [production, dev]) {
      const functions = sstFunctions(run)
      expect(functions.map((fn) => fn.inputs.handler).sort()).toEqual(allHandlers().sort())
      // Besides them, only the edge trigger (checked in 'the edge tier').
      expect(lambdaFunctions(run)).toHaveLength(functions.length + 1)
      for (const declared of declaredHandlers) {
        const fn = lambdaFor(run, declared.handler)
        expect(fn.inputs).toMatchObject({
          runtime: 'nodejs22.x',
          architectures: ['arm64'],
          memorySize: 1024,
          timeout: declared.timeoutSeconds,
          packageType: 'Zip',
        })
        expect(fn.inputs.tracingConfig).toBeUndefined()
        // SST's SDK reads the app and the encrypted link data through these.
        const environment = (fn.inputs.environment as { variables: Record<string, string> })
          .variables
        expect(JSON.parse(environment.SST_RESOURCE_App!)).toEqual({
          name: 'meridian',
          stage: run.stage,
        })
        expect(environment.SST_KEY_FILE).toBe('resource.enc')
        expect(environment.SST_KEY).toBeTruthy()
        // Linked values (the admin key among them) travel encrypted, never as plain variables.
        expect(JSON.stringify(environment)).not.toContain(adminKeyValue)
      }
    }
  })

  it('serves the API on a public function URL in response streaming mode', () => {
    const url = production.byName(`${apiFunction.name}Url`)
    const api = lambdaFor(production, apiFunction.handler)
    expect(url.inputs).toMatchObject({
      functionName: api.inputs.name,
      authorizationType: 'NONE',
      invokeMode: 'RESPONSE_STREAM',
    })
    // One more per regional API ('regional APIs' below checks theirs).
    expect(production.ofType('aws:lambda/functionUrl:FunctionUrl')).toHaveLength(
      1 + regionalApiFunction.regions().length,
    )
  })

  it('runs each schedule as an EventBridge rule at its rate, targeting its function', () => {
    const rules = production.ofType('aws:cloudwatch/eventRule:EventRule')
    expect(rules).toHaveLength(schedules.length)
    for (const schedule of schedules) {
      const minutes = Math.max(1, Math.ceil(schedule.everySeconds / 60))
      const rule = production.byName(`${schedule.name}Rule`)
      expect(rule.inputs).toMatchObject({
        scheduleExpression: minutes === 1 ? 'rate(1 minute)' : `rate(${minutes} minutes)`,
        state: 'ENABLED',
      })
      const fn = lambdaFor(production, schedule.handler)
      expect(production.byName(`${schedule.name}Target`).inputs).toMatchObject({
        rule: rule.inputs.name,
        arn: fn.state.arn,
      })
      expect(production.byName(`${schedule.name}Permission`).inputs).toMatchObject({
        action: 'lambda:InvokeFunction',
        function: fn.state.arn,
        principal: 'events.amazonaws.com',
        sourceArn: rule.state.arn,
      })
    }
  })

  it('notifies the upload trigger of created objects under its prefix only', () => {
    const notifications = production.ofType('aws:s3/bucketNotification:BucketNotification')
    expect(notifications).toHaveLength(bucketNotifications.length > 0 ? 1 : 0)
    const bucket = production.byName(`${dataBucket.resource}Bucket`)
    const [notification] = notifications
    expect(notification!.inputs.bucket).toBe(bucket.state.bucket)
    expect(notification!.inputs.lambdaFunctions).toEqual(
      bucketNotifications.map((declared) => ({
        id: declared.name,
        lambdaFunctionArn: lambdaFor(production, declared.handler).state.arn,
        events: declared.events,
        filterPrefix: declared.filterPrefix,
      })),
    )
    for (const declared of bucketNotifications) {
      const fn = lambdaFor(production, declared.handler)
      const permissions = production
        .ofType('aws:lambda/permission:Permission')
        .filter((permission) => permission.inputs.function === fn.state.arn)
      expect(permissions.map((permission) => permission.inputs)).toEqual([
        expect.objectContaining({
          action: 'lambda:InvokeFunction',
          principal: 's3.amazonaws.com',
          sourceArn: bucket.state.arn,
        }),
      ])
    }
  })

  it('lets only Lambda assume a function role (SST 3.19.3 would also trust the account root)', () => {
    for (const run of [production, dev]) {
      for (const fn of lambdaFunctions(run)) {
        // Lambda@Edge replicates its function: its role must also trust edgelambda.
        const services =
          fn === edgeTrigger(run)
            ? ['lambda.amazonaws.com', 'edgelambda.amazonaws.com']
            : 'lambda.amazonaws.com'
        expect(trustOf(roleOf(run, fn)).Statement, String(fn.inputs.handler)).toEqual([
          expect.objectContaining({
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { Service: services },
          }),
        ])
      }
    }
  })

  it("grants each function exactly its links' resources (and a subscriber its queue's receive actions), nothing else", () => {
    for (const run of [production, dev]) {
      for (const declared of declaredHandlers) {
        const fn = lambdaFor(run, declared.handler)
        const subscription = queueSubscriptions.find((s) => s.handler === declared.handler)
        const receive = subscription
          ? [
              'sqs:ChangeMessageVisibility',
              'sqs:DeleteMessage',
              'sqs:GetQueueAttributes',
              'sqs:GetQueueUrl',
              'sqs:ReceiveMessage',
            ].map(
              (action) =>
                `${action} on ${queueResource(run, subscription.queue.resource).state.arn}`,
            )
          : []
        const statements = inlineStatements(roleOf(run, fn))
        expect(grants(statements), declared.handler).toEqual(
          [...declared.links.flatMap((name) => expectedLinkGrants(run, name)), ...receive].sort(),
        )
        expect(statements.filter((statement) => statement.Effect !== 'Allow')).toEqual([])
        expect(roleOf(run, fn).inputs.managedPolicyArns).toEqual([
          'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
        ])
      }
    }
  })

  it('links each function to exactly the resources its code can reach', () => {
    for (const declared of declaredHandlers) {
      const build = buildFor(production, declared.handler)
      expect(Object.keys(build.links).sort(), declared.handler).toEqual([...declared.links].sort())
      if (declared.links.includes(adminApiKeySecret.resource)) {
        expect(build.links[adminApiKeySecret.resource]).toMatchObject({ value: adminKeyValue })
      }
      expect(Object.keys(build.links).sort(), `${declared.handler} reaches`).toEqual(
        [...reachableResources(build.bundle.code)].sort(),
      )
    }
  })
})

describe('the data bucket', () => {
  it('denies every request not made over HTTPS and blocks public access', () => {
    for (const run of [production, dev]) {
      const bucket = run.byName(`${dataBucket.resource}Bucket`)
      const policy = run.byName(`${dataBucket.resource}Policy`)
      expect(policy.inputs.bucket).toBe(bucket.state.bucket)
      expect(JSON.parse(String(policy.inputs.policy)).Statement).toEqual([
        {
          Effect: 'Deny',
          Action: ['s3:*'],
          Resource: [bucket.state.arn, `${bucket.state.arn}/*`],
          Principal: { '*': ['*'] },
          Condition: { Bool: { 'aws:SecureTransport': ['false'] } },
        },
      ])
      expect(run.byName(`${dataBucket.resource}PublicAccessBlock`).inputs).toMatchObject({
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      })
    }
  })
})

describe('function bundles (built through Runtime.Build as SST builds them)', () => {
  it('builds every handler once per function, and each bundle exports its function', () => {
    expect(production.builds.map((build) => build.handler).sort()).toEqual(allHandlers().sort())
    for (const build of production.builds) {
      expect(build.bundle.exists, `${build.bundle.entry} is missing`).toBe(true)
      expect(
        build.bundle.exports,
        `${build.bundle.entry} does not export ${build.bundle.exportName}`,
      ).toContain(build.bundle.exportName)
      expect(build.runtime).toBe('nodejs22.x')
      expect(build.properties).toMatchObject({ architecture: 'arm64' })
    }
  })

  it('bundles every function without a dev dependency, and reports the sizes', () => {
    const packages = productionPackages(repositoryRoot)
    console.table(
      production.builds.map((build) => ({
        handler: build.handler,
        kib: Math.round(build.bundle.bytes / 1024),
        packages: build.bundle.packages.length,
      })),
    )
    for (const build of production.builds) {
      expect(
        build.bundle.packages.filter((name) => !packages.has(name)),
        build.handler,
      ).toEqual([])
    }
  })

  it('bundles the web pages into the API function: no file is read for them at run time', () => {
    const api = production.builds.find((build) => build.handler === 'functions/api.handler')!
    expect(api.bundle.inputs).toEqual(
      expect.arrayContaining([
        'packages/api/src/web/dashboard-assets.generated.ts',
        'packages/api/src/web/swagger-ui-assets.generated.ts',
      ]),
    )
    // The strings themselves: Swagger UI's bundle and the dashboard's module.
    expect(api.bundle.code).toContain('SwaggerUIBundle')
    expect(api.bundle.code).toContain('meridian.apiKey')
  })

  it('bundles no X-Ray SDK (no function enables active tracing) and one copy of Powertools commons', () => {
    for (const build of production.builds) {
      expect(
        build.bundle.packages.filter((name) => name.includes('xray')),
        build.handler,
      ).toEqual([])
      const commons = build.bundle.inputs.filter((input) =>
        input.includes('@aws-lambda-powertools/commons/'),
      )
      const copies = new Set(commons.map((input) => input.split('/commons/')[0]))
      expect(copies.size, build.handler).toBeLessThanOrEqual(1)
    }
  })
})

describe('regional APIs (the edge tier)', () => {
  const regionalRegions = regionalApiFunction.regions()

  function regionalApi(run: SstRun, region: string): RecordedResource {
    return run.byName(`${regionalApiFunction.name(region)}Function`)
  }

  it('deploys one per store region but the home region, in that region through its store table’s provider', () => {
    expect(regionalRegions.sort()).toEqual(
      stageConfig.storeRegions.filter((region) => region !== stageConfig.homeRegion).sort(),
    )
    expect(regionalRegions.length).toBeGreaterThan(0)
    for (const run of [production, dev]) {
      const deployed = sstFunctions(run).filter(
        (fn) => fn.inputs.handler === regionalApiFunction.handler,
      )
      expect(deployed).toHaveLength(regionalRegions.length)
      for (const region of regionalRegions) {
        const fn = regionalApi(run, region)
        expect(fn.inputs.handler).toBe(regionalApiFunction.handler)
        expect(fn.region).toBe(region)
        expect(fn.provider).toContain(`::${storeTableResource(region)}Provider::`)
        expect(String(fn.state.arn)).toContain(`:lambda:${region}:`)
        expect(fn.inputs).toMatchObject({
          runtime: 'nodejs22.x',
          architectures: ['arm64'],
          timeout: regionalApiFunction.timeoutSeconds,
        })
      }
    }
  })

  it('serves each on a public function URL in response streaming mode, in its region', () => {
    for (const region of regionalRegions) {
      const fn = regionalApi(production, region)
      const url = production.byName(`${regionalApiFunction.name(region)}Url`)
      expect(url.inputs).toMatchObject({
        functionName: fn.inputs.name,
        authorizationType: 'NONE',
        invokeMode: 'RESPONSE_STREAM',
      })
      expect(url.region).toBe(region)
    }
  })

  it('puts each in regional mode through its environment: its region and the home API URL', () => {
    const homeUrl = production.byName(`${apiFunction.name}Url`).state.functionUrl
    for (const region of regionalRegions) {
      const variables = (
        regionalApi(production, region).inputs.environment as {
          variables: Record<string, string>
        }
      ).variables
      expect(variables.MERIDIAN_SERVED_REGION).toBe(region)
      expect(variables.MERIDIAN_HOME_API_URL).toBe(homeUrl)
      expect(JSON.stringify(variables)).not.toContain(adminKeyValue)
    }
  })

  it('grants each its own store table and the coordination table, nothing else', () => {
    for (const run of [production, dev]) {
      for (const region of regionalRegions) {
        const fn = regionalApi(run, region)
        const expected = [coordinationTable.resource, storeTableResource(region)].flatMap((name) =>
          expectedLinkGrants(run, name),
        )
        expect(grants(inlineStatements(roleOf(run, fn))), region).toEqual(expected.sort())
        // No other region's table, no queue, no bucket.
        const granted = JSON.stringify(inlineStatements(roleOf(run, fn)))
        for (const other of stageConfig.storeRegions.filter((candidate) => candidate !== region))
          expect(granted).not.toContain(
            String(tableResource(run, tables.find((t) => t.region === other)!).state.arn),
          )
      }
    }
  })

  it('links each to its own store table, the coordination table and the admin key, which is what its code names', () => {
    const builds = production.builds.filter(
      (build) => build.handler === regionalApiFunction.handler,
    )
    expect(builds).toHaveLength(regionalRegions.length)
    const linkSets = builds.map((build) => Object.keys(build.links).sort())
    expect(linkSets.sort()).toEqual(
      regionalRegions.map((region) => [...regionalApiFunction.links(region)].sort()).sort(),
    )
    for (const build of builds) {
      expect(build.links[adminApiKeySecret.resource]).toMatchObject({ value: adminKeyValue })
      // The store table it reads is `storeTableResource(MERIDIAN_SERVED_REGION)`, so the
      // bundle names the store tables only through that function; every other resource it
      // can name is linked. (test/integration/edge checks it calls no other region's table.)
      const reachable = [...reachableResources(build.bundle.code)].filter(
        (name) => !name.startsWith('Store'),
      )
      expect(reachable.sort()).toEqual([adminApiKeySecret.resource, coordinationTable.resource])
      expect(build.bundle.code).not.toContain('function storeTables')
    }
  })
})

describe('the edge (Lambda@Edge behind CloudFront)', () => {
  /**
   * The trigger's code as the deploy program built it: the `index.js` of the directory its
   * FileArchive names. (Pulumi's mocks lose an archive's path, so the file is read where
   * infra/edge.ts writes it, from the run that just evaluated it.)
   */
  async function edgeCode(run: SstRun): Promise<string> {
    expect(edgeTrigger(run).inputs.code).toMatchObject({ __pulumiArchive: true })
    const directory = join(repositoryRoot, edgeFunction.artifactDirectory)
    expect(readdirSync(directory)).toEqual(['index.js'])
    return readFileSync(join(directory, 'index.js'), 'utf8')
  }

  function distribution(run: SstRun): RecordedResource {
    const found = run.ofType('aws:cloudfront/distribution:Distribution')
    expect(found).toHaveLength(1)
    return found[0]!
  }

  it('creates the edge function in us-east-1, published, with no environment, on Node 22 x86_64', () => {
    for (const run of [production, dev]) {
      const fn = edgeTrigger(run)
      expect(fn.region).toBe('us-east-1')
      expect(run.byName(`${edgeFunction.name}Provider`).inputs.region).toBe('us-east-1')
      expect(fn.provider).toContain(`::${edgeFunction.name}Provider::`)
      expect(fn.inputs).toMatchObject({
        publish: true,
        runtime: 'nodejs22.x',
        architectures: ['x86_64'],
        handler: 'index.handler',
        timeout: edgeFunction.timeoutSeconds,
        memorySize: edgeFunction.memoryMb,
      })
      expect(fn.inputs.environment).toBeUndefined()
      expect(fn.inputs.layers).toBeUndefined()
      expect(fn.inputs.vpcConfig).toBeUndefined()
    }
  })

  it('runs it with a role lambda.amazonaws.com and edgelambda.amazonaws.com assume, granted logs only', () => {
    const role = roleOf(production, edgeTrigger(production))
    expect(trustOf(role).Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: ['lambda.amazonaws.com', 'edgelambda.amazonaws.com'] },
      },
    ])
    expect(role.inputs.managedPolicyArns).toEqual([
      'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
    ])
    expect(role.inputs.inlinePolicies ?? []).toEqual([])
  })

  it('associates its published version as the origin-request trigger of the only behavior, caching nothing', () => {
    for (const run of [production, dev]) {
      const fn = edgeTrigger(run)
      const inputs = distribution(run).inputs as {
        defaultCacheBehavior: Record<string, unknown>
        orderedCacheBehaviors?: unknown[]
        enabled: boolean
      }
      expect(inputs.enabled).toBe(true)
      expect(inputs.orderedCacheBehaviors ?? []).toEqual([])
      expect(inputs.defaultCacheBehavior).toMatchObject({
        targetOriginId: 'home-api',
        cachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', // Managed-CachingDisabled
        originRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac', // AllViewerExceptHostHeader
        lambdaFunctionAssociations: [
          { eventType: 'origin-request', lambdaArn: fn.state.qualifiedArn, includeBody: false },
        ],
      })
      // A numbered version, not $LATEST or an alias.
      expect(String(fn.state.qualifiedArn)).toMatch(/:function:[^:]+:\d+$/)
      expect([...(inputs.defaultCacheBehavior.allowedMethods as string[])].sort()).toEqual([
        'DELETE',
        'GET',
        'HEAD',
        'OPTIONS',
        'PATCH',
        'POST',
        'PUT',
      ])
    }
  })

  it('sends to the home API by default and configures the trigger through the origin’s custom headers', () => {
    const origins = distribution(production).inputs.origins as Array<{
      originId: string
      domainName: string
      customOriginConfig: Record<string, unknown>
      customHeaders: Array<{ name: string; value: string }>
    }>
    expect(origins).toHaveLength(1)
    const [origin] = origins
    const homeUrl = String(production.byName(`${apiFunction.name}Url`).state.functionUrl)
    expect(origin!.domainName).toBe(new URL(homeUrl).host)
    expect(origin!.customOriginConfig).toMatchObject({ originProtocolPolicy: 'https-only' })
    const headers = Object.fromEntries(origin!.customHeaders.map((h) => [h.name, h.value]))
    const config = parseEdgeConfig(
      headers[edgeConfigHeaders.homeRegion],
      headers[edgeConfigHeaders.regionUrls],
    )
    const urlOf = (region: string) =>
      String(
        production.byName(
          `${region === stageConfig.homeRegion ? apiFunction.name : regionalApiFunction.name(region)}Url`,
        ).state.functionUrl,
      ).replace(/\/+$/, '')
    expect(config).toEqual({
      homeRegion: stageConfig.homeRegion,
      regionUrls: Object.fromEntries(
        stageConfig.storeRegions.map((region) => [region, urlOf(region)]),
      ),
    })
  })

  it('outputs the edge URL (the distribution’s domain) beside the API URL', () => {
    for (const run of [production, dev]) {
      expect(run.outputs.edge).toBe(`https://${distribution(run).state.domainName}`)
      expect(run.outputs.api).toBe(run.byName(`${apiFunction.name}Url`).state.functionUrl)
    }
  })

  it('builds a bundle far within the Lambda@Edge limit, with no Node built-in and no AWS SDK', async () => {
    const code = await edgeCode(production)
    const bytes = Buffer.byteLength(code)
    console.log(`edge bundle: ${Math.round(bytes / 1024)} KiB`)
    // The limit is 1 MB zipped for viewer triggers, 50 MB for origin triggers; this is the
    // unzipped file.
    expect(bytes).toBeLessThan(1024 * 1024)
    expect(bytes).toBeLessThan(128 * 1024)
    const required = [...code.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!)
    const imported = [...code.matchAll(/\bfrom\s*["']([^"']+)["']/g)].map((m) => m[1]!)
    const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]))
    expect([...required, ...imported].filter((name) => builtins.has(name))).toEqual([])
    expect([...required, ...imported]).toEqual([])
    expect(code).not.toContain('@aws-sdk')
    expect(code).not.toContain('process.env')
  })

  it('exports a handler that, built, leaves a request without edge config as it came', async () => {
    const module = { exports: {} as { handler?: (event: CloudFrontRequestEvent) => unknown } }
    runInNewContext(await edgeCode(production), {
      module,
      exports: module.exports,
      URL,
      Headers,
      fetch: () => Promise.reject(new Error('no network here')),
    })
    expect(typeof module.exports.handler).toBe('function')
    const request: CloudFrontRequest = {
      clientIp: '203.0.113.178',
      method: 'GET',
      uri: '/kv/a',
      querystring: '',
      headers: { host: [{ key: 'Host', value: 'example.org' }] },
      origin: {
        custom: {
          customHeaders: {},
          domainName: 'example.org',
          keepaliveTimeout: 5,
          path: '',
          port: 443,
          protocol: 'https',
          readTimeout: 30,
          sslProtocols: ['TLSv1.2'],
        },
      },
    }
    const event = originRequestEvent(request)
    const answer = (await module.exports.handler!(event)) as CloudFrontRequest
    expect(answer.origin?.custom?.domainName).toBe('example.org')
  })
})
