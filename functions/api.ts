// Lambda entry for the HTTP API: the Hono app behind a function URL or API Gateway v2.
import { Logger } from '@aws-lambda-powertools/logger'
import { awsEngineProbes, createApp } from '@meridian/api'
import { handle } from 'hono/aws-lambda'

const logger = new Logger({ serviceName: 'meridian-api' })

export const app = createApp({
  probes: awsEngineProbes(),
  logError: (error) => logger.error('unhandled error', error as Error),
})

export const handler = handle(app)
