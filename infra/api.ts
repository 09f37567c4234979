// The HTTP API: the Hono app on a Lambda function URL (response streaming is available
// there for server-sent events), linked to what its routes read.
import { mapQueue, reduceQueue } from './queues'
import { bucket, coordination, storeTables } from './storage'

export const api = new sst.aws.Function('Api', {
  handler: 'functions/api.handler',
  runtime: 'nodejs22.x',
  architecture: 'arm64',
  timeout: '30 seconds',
  memory: '1024 MB',
  url: true,
  link: [coordination, bucket, mapQueue, reduceQueue, ...storeTables],
})
