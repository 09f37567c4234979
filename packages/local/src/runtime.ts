// The whole local runtime behind `npm start`: engines, resources, the SST resource
// environment, the API on a port, SQS pollers and scheduled handlers. Tests use the same
// pieces, so what `npm start` runs is what the suite checks.
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { S3Client } from '@aws-sdk/client-s3'
import { SQSClient } from '@aws-sdk/client-sqs'
import { type ServerType, serve } from '@hono/node-server'
import { generateApiKey } from '@meridian/api/api-keys'
import { bucketNotifications, schedules, stageConfig } from '@meridian/aws'
import { bootstrapResources } from './bootstrap'
import { engineDirectories, startLocalEngines } from './engines'
import { scheduledEvent } from './lambda-events'
import { resourceEnvironment } from './local-resources'
import { S3NotificationWatcher } from './s3-notifications'
import { Scheduler } from './scheduler'
import { subscriptionPollers } from './sqs-poller'
import { WorkerPool } from './worker-pool'

/**
 * Re-send what fauxqs lost on a restart: the unfinished tasks of running jobs
 * (functions/job-sweeper.ts) and the unrecorded range tasks of a running ring migration
 * (functions/ring-migration-worker.ts).
 */
const redriveHandlers = [
  { name: 'job-redrive', handler: 'functions/job-sweeper.redrive' },
  { name: 'ring-migration-redrive', handler: 'functions/ring-migration-worker.redrive' },
]

export const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url))

export interface LocalRuntimeOptions {
  port: number
  stage?: string
  /** Keep DynamoDB data and S3 objects here across restarts; all in memory when absent. */
  dataDirectory?: string
  /** Invocation threads; defaults to the number of cores. */
  concurrency?: number
  /** The bootstrap admin API key; one is made (and reported in `adminApiKey`) when absent. */
  adminApiKey?: string
  /** DynamoDB Local's port; a free one when absent (a bench puts a proxy in front of it). */
  dynamodbPort?: number
  /**
   * Where the API and the handlers reach DynamoDB instead of DynamoDB Local's own endpoint:
   * a bench puts a latency proxy there. The runtime creates the tables directly.
   */
  dynamodbClientEndpoint?: string
  /**
   * Serve the edge tier: the edge (packages/edge) on `port`, the home API and one regional
   * API per other store region on free ports it logs, each answering with its own
   * `meridian-region`; the regional APIs run in regional mode, as on AWS.
   */
  edge?: boolean
  log?: (line: string) => void
}

export interface LocalRuntime {
  url: string
  adminApiKey: string
  stop(): Promise<void>
}

export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const log = options.log ?? (() => {})
  const region = stageConfig.homeRegion
  const stage = options.stage ?? 'local'
  const engines = await startLocalEngines({
    region,
    dataDirectory: options.dataDirectory,
    ...(options.dynamodbPort !== undefined && { dynamodbPort: options.dynamodbPort }),
  })
  const cleanups: Array<() => Promise<void>> = [() => engines.stop()]
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  }
  try {
    const resources = await bootstrapResources({ stage, region, endpoints: engines })
    // Set before anything imports `sst`: Resource reads the environment once, at load.
    const adminApiKey = options.adminApiKey ?? generateApiKey().key
    const clientEndpoints = options.dynamodbClientEndpoint
      ? { ...engines, dynamodbEndpoint: options.dynamodbClientEndpoint }
      : engines
    Object.assign(process.env, resourceEnvironment(resources, clientEndpoints, adminApiKey))

    const pool = new WorkerPool({ rootDirectory: repositoryRoot, size: options.concurrency })
    cleanups.push(() => pool.close())

    const sqs = new SQSClient({ region, useQueueUrlAsEndpoint: false })
    cleanups.push(async () => sqs.destroy())
    const invoke = pool.invoke.bind(pool)
    const pollers = subscriptionPollers(resources, {
      sqs,
      invoke,
      maximumConcurrency: pool.size,
      onInvocationError: (error, records, handler) =>
        log(`${handler} failed on ${records.length} record(s): ${error.name}: ${error.message}`),
    })
    for (const poller of pollers) {
      poller.start()
      cleanups.push(() => poller.stop())
    }
    // fauxqs's queues are in memory: task messages sent before a restart are gone, while
    // the jobs they belong to survived in DynamoDB. Re-send every unfinished task of every
    // running job once, in the background (effects are idempotent; a duplicate is wasted
    // work only). On AWS, SQS keeps messages, so this is local-only.
    for (const { name, handler } of redriveHandlers) {
      void invoke(handler, scheduledEvent(name, region), {
        functionName: name,
        timeoutMs: 60_000,
      }).then((outcome) => {
        if (!outcome.ok) log(`${name} failed: ${outcome.error.name}: ${outcome.error.message}`)
      })
    }
    const scheduler = new Scheduler({
      schedules,
      region,
      invoke,
      onRun: (schedule, outcome) => {
        if (!outcome.ok)
          log(`${schedule.name} failed: ${outcome.error.name}: ${outcome.error.message}`)
      },
    })
    scheduler.start()
    cleanups.push(() => scheduler.stop())

    const s3 = new S3Client({ region, forcePathStyle: true })
    cleanups.push(async () => s3.destroy())
    const watcher = new S3NotificationWatcher({
      s3,
      bucket: resources.bucketName,
      region,
      notifications: bucketNotifications,
      invoke,
      onInvocationError: (notification, error) =>
        log(`${notification.handler} failed: ${error.name}: ${error.message}`),
    })
    await watcher.start()
    cleanups.push(() => watcher.stop())

    const { app } = await import('../../../functions/api-app')
    const fetch = options.edge ? await edgeTier(app.fetch, log, cleanups) : app.fetch
    const server = await listen(fetch, options.port)
    cleanups.push(() => closeServer(server))
    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : options.port
    const kept = options.dataDirectory
      ? ` (data in ${dirname(engineDirectories(options.dataDirectory).dynamodb)})`
      : ' (in memory)'
    log(`engines: DynamoDB Local ${engines.dynamodbEndpoint}, fauxqs ${engines.sqsEndpoint}${kept}`)
    log(
      `pollers: ${pollers.length} queue subscription(s), ${schedules.length} schedule(s), ${pool.size} invocation thread(s)`,
    )
    return { url: `http://localhost:${port}`, adminApiKey, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/**
 * The edge tier as `sst deploy` shapes it: the home region's API (the full app), one
 * regional API per other store region (functions/regional-api-app.ts: it reads only its
 * own region's store table and the coordination table, and sends everything else to the
 * home API, as its Lambda does), and the edge in front of them.
 */
async function edgeTier(
  apiFetch: (request: Request) => Response | Promise<Response>,
  log: (line: string) => void,
  cleanups: Array<() => Promise<void>>,
): Promise<(request: Request) => Response | Promise<Response>> {
  const { createEdgeApp } = await import('@meridian/edge')
  const { createRegionalApiApp } = await import('../../../functions/regional-api-app')
  const regionUrls: Record<string, string> = {}
  const serveOnFreePort = async (
    region: string,
    fetch: (request: Request) => Response | Promise<Response>,
  ) => {
    const server = await listen(fetch, 0)
    cleanups.push(() => closeServer(server))
    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : 0
    regionUrls[region] = `http://127.0.0.1:${port}`
    log(`api ${region}: ${regionUrls[region]}`)
  }
  const home = stageConfig.homeRegion
  await serveOnFreePort(home, apiFetch)
  for (const region of stageConfig.storeRegions.filter((candidate) => candidate !== home)) {
    const app = createRegionalApiApp({ servedRegion: region, homeApiUrl: regionUrls[home]! })
    await serveOnFreePort(region, app.fetch)
  }
  return createEdgeApp({ homeRegion: home, regionUrls }).fetch
}

function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  port: number,
): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port }, () => resolve(server))
    server.once('error', reject)
  })
}

function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => {
    if ('closeAllConnections' in server) server.closeAllConnections()
    server.close(() => resolve())
  })
}
