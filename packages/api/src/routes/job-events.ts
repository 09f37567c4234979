// GET /jobs/:id/events (and GET /ring/migration/events, through snapshotEventStream): the
// job's progress as server-sent events, polled from the job record. The API function has a hard timeout (30 s on AWS), so a stream never outlives
// it: it ends on its own a few seconds earlier with a `reconnect` event (and an SSE
// `retry` hint), and the client's EventSource reconnects with `Last-Event-ID`.
//
// Timeline of one stream:
//   open ── progress(id=digest of the job) ── … ── end            (the job finished)
//                                              ├── timeout        (the client's timeoutSeconds)
//                                              └── reconnect      (the function's budget)
// Each `progress` event's id is a digest of the job it carries, so a reconnect whose
// Last-Event-ID names the job as it still is starts without repeating it: the client
// resumes where it left off and sees only changes.
import { apiTimeoutSeconds } from '@meridian/aws'
import { isTerminal, type JobService } from '@meridian/mapreduce'
import type { Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { AppEnv } from '../app'
import { ProblemError } from '../problem'

/** Time left for the stream's last event and close before the function's timeout. */
export const streamEndMarginMs = 5_000

/** How long one stream may run on the API function (its timeout less the margin). */
export const eventStreamBudgetMs = apiTimeoutSeconds * 1000 - streamEndMarginMs

/** The client waits this long before reconnecting after `reconnect`. */
export const reconnectRetryMs = 1_000

const lastEventIdPattern = /^[0-9a-f]{16}$/

export interface JobEventStreamOptions {
  timeoutSeconds: number
  intervalMs: number
  /** Upper bound of the stream's duration, whatever the client asked. */
  budgetMs?: number
}

async function eventId(snapshot: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(snapshot))
  return [...new Uint8Array(digest).slice(0, 8)]
    .map((byte) => byte.toString(16).padStart(2, '0'))
    .join('')
}

/** Checks the Last-Event-ID header (problem+json 400 when malformed). */
export function lastEventId(c: Context<AppEnv>): string | undefined {
  const header = c.req.header('last-event-id')
  if (header === undefined || header === '') return undefined
  if (!lastEventIdPattern.test(header)) {
    throw new ProblemError({
      slug: 'invalid-request',
      title: 'Bad Request',
      status: 400,
      detail: 'Last-Event-ID must be the id of an event this stream sent (16 hex digits).',
    })
  }
  return header
}

type JobView = Awaited<ReturnType<JobService['get']>>

/** Streams `first` and every change after it (the caller reads `first`, mapping its errors). */
export function jobEventStream(
  c: Context<AppEnv>,
  jobs: Pick<JobService, 'get'>,
  first: JobView,
  options: JobEventStreamOptions,
): Response {
  const tenant = c.get('tenant')
  return snapshotEventStream(c, first, {
    ...options,
    read: () => jobs.get(tenant, first.id),
    finished: (job) => isTerminal(job.state),
    summary: (job) => ({ state: job.state }),
  })
}

export interface SnapshotStreamOptions<T> extends JobEventStreamOptions {
  /** Reads the next snapshot. */
  read: () => Promise<T>
  /** True when the stream ends with `end` after sending this snapshot. */
  finished: (snapshot: T) => boolean
  /** What the closing events carry. */
  summary: (snapshot: T) => unknown
}

/**
 * The shape every progress stream shares (jobs, ring migrations): `progress` when the
 * snapshot changes (its id a digest of it), then `end`, `timeout` or `reconnect`.
 */
export function snapshotEventStream<T>(
  c: Context<AppEnv>,
  first: T,
  options: SnapshotStreamOptions<T>,
): Response {
  const resumeAfter = lastEventId(c)
  const budgetMs = options.budgetMs ?? eventStreamBudgetMs
  return streamSSE(c, async (stream) => {
    const startedMs = Date.now()
    const clientDeadlineMs = startedMs + options.timeoutSeconds * 1000
    const budgetDeadlineMs = startedMs + budgetMs
    let snapshot = first
    let sentId = resumeAfter
    for (;;) {
      const data = JSON.stringify(snapshot)
      const snapshotId = await eventId(data)
      if (snapshotId !== sentId) {
        await stream.writeSSE({ event: 'progress', data, id: snapshotId })
        sentId = snapshotId
      }
      const summary = options.summary(snapshot)
      if (options.finished(snapshot)) {
        await stream.writeSSE({ event: 'end', data: JSON.stringify(summary) })
        return
      }
      const nowMs = Date.now()
      if (nowMs >= clientDeadlineMs || stream.aborted) {
        await stream.writeSSE({ event: 'timeout', data: JSON.stringify(summary) })
        return
      }
      if (nowMs + options.intervalMs >= budgetDeadlineMs) {
        await stream.writeSSE({
          event: 'reconnect',
          data: JSON.stringify({ ...(summary as object), lastEventId: sentId }),
          retry: reconnectRetryMs,
        })
        return
      }
      await stream.sleep(options.intervalMs)
      snapshot = await options.read()
    }
  })
}
