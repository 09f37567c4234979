// Runs sst.config.ts the way `sst deploy` does, with SST's real components (the platform of
// the installed `sst`, prepared in .sst/platform by `npm run infra:prepare`) on Pulumi's
// mock runtime (`pulumi.runtime.setMocks`): no Pulumi engine, no AWS account, no network.
//
// What SST's runner does (pkg/project/stack.go, pkg/js/js.go), and what this does instead:
// - esbuild bundles an entry that imports platform/src/auto/run.ts and sst.config.ts, with
//   `$app`, `$cli` and `$dev` defined as JSON, platform/src/shim/run.js injected (`$config`,
//   `$interpolate`, ...), and `import * as aws from "@pulumi/aws"` and `import * as sst from
//   ".sst/platform/src/components"` put in front of every file outside .sst. Same here.
// - The Pulumi engine registers resources with AWS; here the mocks record each one (type,
//   name, inputs, provider) and answer with outputs shaped like AWS's (ARNs, URLs, names).
//   Provider functions (getRegion, getPolicyDocument, ...) are answered the same way.
// - SST's Go server answers the components' RPCs (`SST_SERVER`); here a stub HTTP server
//   does: Runtime.Build bundles the handler with esbuild as SST's Node runtime does,
//   Provider.Aws.Bootstrap names an asset bucket, Runtime.AddTarget is recorded.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build, type Plugin } from 'esbuild'
import {
  platformDirectory,
  platformProblem,
  prepareCommand,
  repositoryRoot,
} from '../../scripts/sst-platform'
import { bundleHandler, type HandlerBundle } from './bundle-functions'

export const mockAccountId = '123456789012'

export interface RecordedResource {
  type: string
  /** The Pulumi resource name (SST derives it from the component name: `MapQueueSubscriber...`). */
  name: string
  inputs: Record<string, unknown>
  /** The provider reference (`urn::id`) when the resource was given an explicit provider. */
  provider?: string
  /** The AWS region the resource lands in (its provider's region, else the home region). */
  region: string
  /** Outputs the mock answered with. */
  state: Record<string, unknown>
  /** Resource options after SST's stack transformations (mocks don't see options). */
  options: { retainOnDelete?: boolean; protect?: boolean }
}

export interface RecordedInvoke {
  token: string
  inputs: Record<string, unknown>
  provider?: string
}

export interface BuildRequest {
  functionID: string
  handler: string
  runtime: string
  links: Record<string, unknown>
  properties: Record<string, unknown>
  bundle: HandlerBundle
}

export interface SstRun {
  stage: string
  /** What app() returned for the stage (name, home, removal, protect). */
  app: Record<string, unknown>
  outputs: Record<string, unknown>
  resources: RecordedResource[]
  invokes: RecordedInvoke[]
  builds: BuildRequest[]
  rpcCalls: Array<{ method: string; params: unknown }>
  ofType(type: string): RecordedResource[]
  byName(name: string): RecordedResource
}

interface SstConfigModule {
  app(input: { stage: string }): Record<string, unknown> | Promise<Record<string, unknown>>
}

interface EvaluatedProgram {
  evaluate(mocks: unknown, project: string, stage: string): Promise<Record<string, unknown>>
}

/**
 * The program is one esbuild bundle in .sst/platform, so its `@pulumi/*` resolve there;
 * vitest.config.ts externalizes that directory, so Node loads it as `sst deploy` would.
 */
const nativeImport = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ specifier)

/**
 * What sst.config.ts's app() returns for a stage. SST evaluates app() before it bundles the
 * program (its `$config` is the identity, platform/src/config.ts); so does this.
 */
async function appConfig(stage: string): Promise<Record<string, unknown>> {
  const globals = globalThis as { $config?: unknown }
  globals.$config = (config: unknown) => config
  try {
    // By path, so tsconfig.json doesn't follow it: sst.config.ts is typed by tsconfig.infra.json.
    const path = join(repositoryRoot, 'sst.config.ts')
    const { default: config } = (await import(/* @vite-ignore */ path)) as {
      default: SstConfigModule
    }
    return await config.app({ stage })
  } finally {
    delete globals.$config
  }
}

/** Fails with what to run when .sst/platform is missing or was prepared for another sst. */
export function assertPlatformPrepared(): void {
  const problem = platformProblem()
  if (problem) {
    throw new Error(
      `${problem}. The infra tests run SST's real components from .sst/platform: run \`${prepareCommand}\` first (it needs the npm registry, about a minute).`,
    )
  }
}

/** The entry SST's runner bundles, plus the mock setup: everything Pulumi runs inside it. */
function entryCode(): string {
  return `
import * as pulumi from "@pulumi/pulumi";
import { run } from ${JSON.stringify(join(platformDirectory, 'src/auto/run.ts'))};
import mod from ${JSON.stringify(join(repositoryRoot, 'sst.config.ts'))};
export async function evaluate(mocks, project, stage) {
  await pulumi.runtime.setMocks(mocks, project, stage, false);
  const outputs = await pulumi.runtime.runInPulumiStack(() =>
    run(async () => {
      // After SST's own transformations (run.ts registers them first), so it sees their
      // resource options: retainOnDelete from the removal policy, protect.
      pulumi.runtime.registerStackTransformation((args) => {
        mocks.recordOptions(args.type, args.name, args.opts);
        return undefined;
      });
      return mod.run();
    }),
  );
  // Resources created inside applies register after the program returns.
  await pulumi.runtime.waitForRPCs();
  return outputs;
}
`
}

/** SST's InjectGlobals plugin: every file outside .sst sees `aws` and `sst` as globals. */
function injectGlobals(): Plugin {
  const globals = [
    'import * as aws from "@pulumi/aws";',
    `import * as sst from ${JSON.stringify(join(platformDirectory, 'src/components'))};`,
  ].join('\n')
  return {
    name: 'InjectGlobals',
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: /\.(js|ts|jsx|tsx)$/ }, async (args) => {
        const { readFile } = await import('node:fs/promises')
        const contents = await readFile(args.path, 'utf8')
        return {
          contents: args.path.includes('.sst') ? contents : `${globals}\n${contents}`,
          loader: args.path.endsWith('x')
            ? (args.path.slice(-3) as 'jsx' | 'tsx')
            : (args.path.slice(-2) as 'js' | 'ts'),
        }
      })
    },
  }
}

async function bundleProgram(
  outfile: string,
  app: Record<string, unknown>,
  cli: Record<string, unknown>,
): Promise<void> {
  const result = await build({
    banner: {
      js: [
        "import { createRequire as topLevelCreateRequire } from 'module';",
        'const require = topLevelCreateRequire(import.meta.url);',
        'import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"',
        'const __filename = topLevelFileUrlToPath(import.meta.url)',
        'const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))',
      ].join('\n'),
    },
    mainFields: ['module', 'main'],
    format: 'esm',
    platform: 'node',
    stdin: {
      contents: entryCode(),
      resolveDir: repositoryRoot,
      sourcefile: 'eval.ts',
      loader: 'ts',
    },
    nodePaths: [join(platformDirectory, 'node_modules')],
    plugins: [injectGlobals()],
    external: [
      '@pulumi/*',
      'undici',
      '@pulumiverse/*',
      '@sst-provider/*',
      '@aws-sdk/*',
      'esbuild',
      'archiver',
      'glob',
      'vite',
    ],
    define: {
      $app: JSON.stringify(app),
      $cli: JSON.stringify(cli),
      $dev: 'false',
    },
    inject: [join(platformDirectory, 'src/shim/run.js')],
    outfile,
    write: true,
    bundle: true,
    logLevel: 'silent',
  })
  if (result.errors.length > 0) throw new Error(result.errors.map((e) => e.text).join('\n'))
}

/** An ARN and the other outputs AWS would report for a new resource of this type. */
function mockState(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  region: string,
): Record<string, unknown> {
  const physical = String(inputs.name ?? inputs.bucket ?? `${name}-mock`)
  const account = mockAccountId
  switch (type) {
    case 'aws:lambda/function:Function': {
      const arn = `arn:aws:lambda:${region}:${account}:function:${physical}`
      return {
        name: physical,
        arn,
        invokeArn: `arn:aws:apigateway:${region}:lambda:path/functions/${physical}/invocations`,
        // A published function has a numbered version; an unpublished one only $LATEST.
        version: inputs.publish ? '1' : '$LATEST',
        qualifiedArn: inputs.publish ? `${arn}:1` : `${arn}:$LATEST`,
      }
    }
    case 'aws:cloudfront/distribution:Distribution':
      return {
        arn: `arn:aws:cloudfront::${account}:distribution/E${name.toUpperCase()}`,
        domainName: `d${name.toLowerCase()}.cloudfront.net`,
      }
    case 'aws:sqs/queue:Queue':
      return {
        name: physical,
        arn: `arn:aws:sqs:${region}:${account}:${physical}`,
        url: `https://sqs.${region}.amazonaws.com/${account}/${physical}`,
      }
    case 'aws:dynamodb/table:Table':
      return {
        name: physical,
        arn: `arn:aws:dynamodb:${region}:${account}:table/${physical}`,
        streamArn: `arn:aws:dynamodb:${region}:${account}:table/${physical}/stream/mock`,
      }
    case 'aws:s3/bucketV2:BucketV2':
    case 'aws:s3/bucket:Bucket': {
      const bucket = physical.toLowerCase()
      return {
        bucket,
        arn: `arn:aws:s3:::${bucket}`,
        bucketDomainName: `${bucket}.s3.amazonaws.com`,
        bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
      }
    }
    case 'aws:iam/role:Role':
      return { name: physical, arn: `arn:aws:iam::${account}:role/${physical}` }
    case 'aws:lambda/functionUrl:FunctionUrl':
      return { functionUrl: `https://${name.toLowerCase()}.lambda-url.${region}.on.aws/` }
    case 'random:index/randomBytes:RandomBytes':
      return {
        base64: Buffer.alloc(Number(inputs.length ?? 32), 7).toString('base64'),
        hex: '07'.repeat(Number(inputs.length ?? 32)),
      }
    default:
      return { arn: `arn:aws:mock:${region}:${account}:${type.split(':')[1]}/${name}` }
  }
}

/** Pulumi marks a secret input `{ <secret signature>: ..., value }`; the test wants the value. */
const secretSignature = '4dabf18193072939515e22adb298388d'
function revealSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revealSecrets)
  if (value === null || typeof value !== 'object') return value
  const record = value as Record<string, unknown>
  if (secretSignature in record) return revealSecrets(record.value)
  return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, revealSecrets(item)]))
}

/** IAM JSON for aws.iam.getPolicyDocument's statements, as the AWS provider renders it. */
function policyDocumentJson(inputs: Record<string, unknown>): string {
  const statements = (inputs.statements ?? []) as Array<Record<string, unknown>>
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: statements.map((statement) => ({
      Effect: statement.effect ?? 'Allow',
      ...(statement.actions ? { Action: statement.actions } : {}),
      ...(statement.resources ? { Resource: statement.resources } : {}),
      ...(statement.principals
        ? {
            Principal: Object.fromEntries(
              (statement.principals as Array<{ type: string; identifiers: string[] }>).map(
                (principal) => [principal.type, principal.identifiers],
              ),
            ),
          }
        : {}),
      ...(statement.conditions
        ? {
            Condition: (
              statement.conditions as Array<{ test: string; variable: string; values: string[] }>
            ).reduce<Record<string, Record<string, string[]>>>((all, condition) => {
              all[condition.test] = {
                ...all[condition.test],
                [condition.variable]: condition.values,
              }
              return all
            }, {}),
          }
        : {}),
    })),
  })
}

/** Bundles are the same for every stage; esbuild on two cores takes ~20 s for all of them. */
const bundles = new Map<string, Promise<HandlerBundle>>()
function bundleOnce(handler: string): Promise<HandlerBundle> {
  let bundle = bundles.get(handler)
  if (!bundle) {
    bundle = bundleHandler(repositoryRoot, handler)
    bundles.set(handler, bundle)
  }
  return bundle
}

function startRpcServer(
  work: string,
  calls: SstRun['rpcCalls'],
  builds: BuildRequest[],
): Promise<Server> {
  const answer = async (method: string, params: Record<string, unknown>) => {
    switch (method) {
      case 'Provider.Aws.Bootstrap':
        return {
          asset: `sst-asset-mock-${params.region}`,
          assetEcrRegistryId: mockAccountId,
          assetEcrUrl: `${mockAccountId}.dkr.ecr.${params.region}.amazonaws.com/sst-asset`,
          state: `sst-state-mock-${params.region}`,
        }
      case 'Runtime.AddTarget':
        return {}
      case 'Runtime.Build': {
        // SST's Node runtime (pkg/runtime/node/build.go): one ESM file per handler, written
        // to artifacts/<function>-src as <path>.mjs; the handler keeps its path and export.
        const handler = String(params.handler)
        const bundle = await bundleOnce(handler)
        if (!bundle.exists) return { handler, out: '', errors: [`Handler not found: ${handler}`] }
        const out = join(work, 'artifacts', `${params.functionID}-src`)
        const file = join(out, `${handler.slice(0, handler.lastIndexOf('.'))}.mjs`)
        mkdirSync(dirname(file), { recursive: true })
        writeFileSync(file, bundle.code)
        builds.push({
          functionID: String(params.functionID),
          handler,
          runtime: String(params.runtime),
          links: params.links as Record<string, unknown>,
          properties: params.properties as Record<string, unknown>,
          bundle,
        })
        return { handler, out, errors: [], sourcemaps: [] }
      }
      default:
        // SST treats "can't find" as a method the server doesn't have.
        throw new Error(`rpc: can't find method ${method}`)
    }
  }
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => {
      body += chunk
    })
    request.on('end', async () => {
      const { method, params } = JSON.parse(body) as { method: string; params: unknown[] }
      calls.push({ method, params: params[0] })
      let reply: { result?: unknown; error?: string }
      try {
        reply = { result: await answer(method, params[0] as Record<string, unknown>) }
      } catch (error) {
        reply = { error: error instanceof Error ? error.message : String(error) }
      }
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify(reply))
    })
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

/**
 * Evaluates sst.config.ts for a stage with SST's components on Pulumi's mocks and returns
 * every resource, provider function call and function build they made. Pulumi's runtime
 * state is global (setMocks resets it): run stages one after another, never concurrently.
 */
export async function runSstConfig(
  stage: string,
  options: { homeRegion: string; secrets: Record<string, string> },
): Promise<SstRun> {
  assertPlatformPrepared()
  const work = mkdtempSync(join(tmpdir(), 'meridian-sst-'))
  const outfile = join(platformDirectory, `sst.config.test-${stage}-${process.pid}.mjs`)
  const resources: RecordedResource[] = []
  const invokes: RecordedInvoke[] = []
  const builds: BuildRequest[] = []
  const rpcCalls: SstRun['rpcCalls'] = []
  const server = await startRpcServer(work, rpcCalls, builds)
  // What SST's runner passes the program: its server, and each secret's value.
  const variables: Record<string, string> = {
    SST_SERVER: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ...Object.fromEntries(
      Object.entries(options.secrets).map(([name, value]) => [`SST_SECRET_${name}`, value]),
    ),
  }
  const previous = Object.fromEntries(
    Object.keys(variables).map((name) => [name, process.env[name]]),
  )
  try {
    Object.assign(process.env, variables)
    const cli = {
      command: 'deploy',
      dev: false,
      paths: { home: work, root: repositoryRoot, work, platform: platformDirectory },
      state: { version: {} },
    }
    // The app as SST's runner defines it: app()'s result with the stage and the home provider.
    const app: Record<string, unknown> = {
      ...(await appConfig(stage)),
      stage,
      providers: { aws: {} },
    }
    await bundleProgram(outfile, app, cli)
    const program = (await nativeImport(
      `${pathToFileURL(outfile).href}?stage=${stage}`,
    )) as EvaluatedProgram

    const providerRegions = new Map<string, string>()
    // A provider reference is `<urn>::<id>`; the URN ends with the provider's name.
    const regionOf = (provider: string | undefined) => {
      if (!provider) return options.homeRegion
      const name = provider.split('::').at(-2) ?? ''
      return providerRegions.get(name) ?? options.homeRegion
    }
    const resourceOptions = new Map<string, RecordedResource['options']>()
    const mocks = {
      recordOptions(type: string, name: string, opts: RecordedResource['options']) {
        resourceOptions.set(`${type}::${name}`, {
          ...(opts.retainOnDelete !== undefined && { retainOnDelete: opts.retainOnDelete }),
          ...(opts.protect !== undefined && { protect: opts.protect }),
        })
      },
      newResource(args: {
        type: string
        name: string
        inputs: Record<string, unknown>
        provider?: string
        id?: string
      }) {
        if (args.type === 'pulumi:providers:aws') {
          providerRegions.set(args.name, String(args.inputs.region ?? options.homeRegion))
        }
        const region = regionOf(args.provider)
        const state = mockState(args.type, args.name, args.inputs, region)
        resources.push({
          type: args.type,
          name: args.name,
          inputs: revealSecrets(args.inputs) as Record<string, unknown>,
          ...(args.provider ? { provider: args.provider } : {}),
          region,
          state,
          options: resourceOptions.get(`${args.type}::${args.name}`) ?? {},
        })
        return { id: `${args.name}-id`, state: { ...args.inputs, ...state } }
      },
      call(args: { token: string; inputs: Record<string, unknown>; provider?: string }) {
        invokes.push({
          token: args.token,
          inputs: args.inputs,
          ...(args.provider ? { provider: args.provider } : {}),
        })
        switch (args.token) {
          case 'aws:index/getRegion:getRegion': {
            const name = regionOf(args.provider)
            return { name, id: name, description: name, endpoint: `${name}.amazonaws.com` }
          }
          case 'aws:index/getPartition:getPartition':
            return {
              partition: 'aws',
              dnsSuffix: 'amazonaws.com',
              reverseDnsPrefix: 'com.amazonaws',
              id: 'aws',
            }
          case 'aws:index/getCallerIdentity:getCallerIdentity':
            return {
              accountId: mockAccountId,
              arn: `arn:aws:iam::${mockAccountId}:user/test`,
              userId: 'test',
              id: mockAccountId,
            }
          case 'aws:iam/getPolicyDocument:getPolicyDocument':
            return { ...args.inputs, json: policyDocumentJson(args.inputs), id: 'policy' }
          default:
            throw new Error(`the SST mock runtime has no answer for ${args.token}`)
        }
      },
    }
    const outputs = await program.evaluate(mocks, String(app.name), stage)
    return {
      stage,
      app,
      outputs,
      resources,
      invokes,
      builds,
      rpcCalls,
      ofType: (type) => resources.filter((resource) => resource.type === type),
      byName: (name) => {
        const found = resources.filter((resource) => resource.name === name)
        if (found.length !== 1) throw new Error(`${found.length} resources named ${name}`)
        return found[0]!
      },
    }
  } finally {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    server.close()
    rmSync(outfile, { force: true })
    rmSync(work, { recursive: true, force: true })
  }
}
