// Lambda entry for the HTTP API: the Hono app behind a Lambda function URL in response
// streaming mode (infra/api.ts), so server-sent events flow as they are written.
import { Logger } from '@aws-lambda-powertools/logger'
import { awsEngineProbes, createApp } from '@meridian/api'
import { streamHandle } from 'hono/aws-lambda'

const logger = new Logger({ serviceName: 'meridian-api' })

export const app = createApp({
  probes: awsEngineProbes(),
  logError: (error) => logger.error('unhandled error', error as Error),
})

export const handler = streamHandle(app)
