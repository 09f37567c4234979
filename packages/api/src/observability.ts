// Per request: a request id, a correlation id (the caller's `x-correlation-id` or the
// request id), both echoed as response headers and bound for the request's duration so
// SQS messages sent meanwhile carry it; and one structured access log line. Secrets never
// reach a log: neither the Authorization header nor bodies are logged.
import {
  acceptableCorrelationId,
  correlationHeader,
  countMetric,
  type MetricName,
  publishMetrics,
  runWithCorrelationId,
} from '@meridian/aws'
import type { Context, MiddlewareHandler } from 'hono'
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
    setResponseHeader(c, 'x-request-id', requestId)
    setResponseHeader(c, correlationHeader, correlationId)
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

/**
 * Sets a header on the finished response in place. `c.header()` after `next()` rebuilds the
 * response around its body, which turns @hono/node-server's lightweight response (body and
 * headers kept as given, written to the socket at once) into a full Web Response whose body
 * is then read back through a stream: measured at about 8% of the API's CPU per GET under
 * load. Headers of a response made elsewhere (a `fetch` answer) may be immutable; those
 * still go through `c.header()`.
 */
function setResponseHeader(c: Context, name: string, value: string): void {
  try {
    c.res.headers.set(name, value)
  } catch {
    c.header(name, value)
  }
}

/** The metric an HTTP outcome stands for, if any: what the operators' dashboards count. */
export function outcomeMetric(
  method: string,
  path: string,
  status: number,
): MetricName | undefined {
  if (method !== 'POST') return undefined
  if (/^\/locks\/[^/]+\/acquire$/.test(path)) {
    return status === 200 ? 'LockAcquired' : status === 409 ? 'LockContention' : undefined
  }
  if (path === '/txn') {
    return status === 200
      ? 'TransactionCommitted'
      : status === 409
        ? 'TransactionAborted'
        : undefined
  }
  if (path === '/jobs' && status === 201) return 'JobSubmitted'
  return undefined
}

/** Counts outcome metrics and flushes them as EMF at the end of each request. */
export function outcomeMetrics(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next()
    const metric = outcomeMetric(c.req.method, c.req.path, c.res.status)
    if (metric) {
      countMetric(metric)
      publishMetrics()
    }
  }
}
