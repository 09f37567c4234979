// The HTTP API: the Hono app on a Lambda function URL, linked to what its routes read.
// Response streaming is on, so GET /jobs/:id/events can stream server-sent events.
import { apiFunction } from '../packages/aws/src'
import { functionDefaults, linked } from './links'

export const api = new sst.aws.Function(apiFunction.name, {
  ...functionDefaults,
  handler: apiFunction.handler,
  timeout: `${apiFunction.timeoutSeconds} seconds`,
  url: true,
  streaming: true,
  link: linked(apiFunction.links),
})
