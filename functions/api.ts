// Lambda entry for the HTTP API: the Hono app (functions/api-app.ts) behind a Lambda
// function URL in response streaming mode (infra/api.ts), so server-sent events flow as
// they are written. streamHandle needs Lambda's `awslambda` global, hence the split.
import { streamHandle } from 'hono/aws-lambda'
import { app } from './api-app'

export const handler = streamHandle(app)
