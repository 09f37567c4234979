// A child process that drives HTTP load with autocannon on request from the parent bench,
// so the load generator doesn't share the measured server's event loop. The parent sends
// a LoadJob over IPC; the child answers with a LoadResult, once per job, until disconnected.
import autocannon from 'autocannon'

export interface LoadJob {
  url: string
  method: 'GET' | 'PUT'
  /** Requests cycle through `${pathPrefix}0` … `${pathPrefix}${pathCount - 1}`. */
  pathPrefix: string
  pathCount: number
  headers: Record<string, string>
  body?: string
  connections: number
  durationSeconds: number
}

export interface LoadResult {
  requests: number
  ok: number
  non2xx: number
  errors: number
  durationSeconds: number
  p50Ms: number
  p99Ms: number
}

async function run(job: LoadJob): Promise<LoadResult> {
  let next = 0
  const result = await autocannon({
    url: job.url,
    connections: job.connections,
    duration: job.durationSeconds,
    headers: job.headers,
    requests: [
      {
        method: job.method,
        ...(job.body !== undefined && { body: job.body }),
        setupRequest: (request) => {
          request.path = `${job.pathPrefix}${next++ % job.pathCount}`
          return request
        },
      },
    ],
  })
  return {
    requests: result['2xx'] + result.non2xx,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    durationSeconds: result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  }
}

process.on('message', (job: LoadJob) => {
  run(job).then(
    (result) => process.send?.({ result }),
    (error: Error) => process.send?.({ error: error.message }),
  )
})
process.on('disconnect', () => process.exit(0))
