// Per request: a request id, a correlation id (the caller's `x-correlation-id` or the
// request id), both echoed as response headers and bound for the request's duration so
// SQS messages sent meanwhile carry it; and one structured access log line. Secrets never
// reach a log: neither the Authorization header nor bodies are logged.
import { acceptableCorrelationId, correlationHeader, runWithCorrelationId } from '@meridian/aws'
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from './app'

export interface RequestLog {
  requestId: string
  correlationId: string
  method: string
  path: string
  status: number
  durationMs: number
  tenant?: string
}

export function observability(logRequest?: (entry: RequestLog) => void): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now()
    const requestId = crypto.randomUUID()
    const correlationId = acceptableCorrelationId(c.req.header(correlationHeader)) ?? requestId
    await runWithCorrelationId(correlationId, next)
    c.header('x-request-id', requestId)
    c.header(correlationHeader, correlationId)
    logRequest?.({
      requestId,
      correlationId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Math.round(performance.now() - started),
      tenant: c.get('tenant'),
    })
  }
}
