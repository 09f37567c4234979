// Which table errors are worth retrying: throttling, server errors and timeouts. The
// outcome of such a write is unknown (a lost response may hide an applied write), so
// callers treat a retry after one as ambiguous.
const transientNames = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'ECONNRESET',
  'ECONNREFUSED',
])

export function isTransientError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const candidate = error as {
    name?: string
    code?: string
    $retryable?: unknown
    $metadata?: { httpStatusCode?: number }
  }
  if (candidate.$retryable) return true
  if (candidate.name && transientNames.has(candidate.name)) return true
  if (candidate.code && transientNames.has(candidate.code)) return true
  return (candidate.$metadata?.httpStatusCode ?? 0) >= 500
}
