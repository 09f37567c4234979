// GET /health: whether each engine answers. Probes run in parallel, each bounded by a
// timeout, and report latency; one engine down makes the answer 503 but still lists the
// others, so an operator sees at once which one is out. The route is public, so one probe
// round serves every caller for `healthCacheMs` (3 s) and concurrent callers share the
// round in flight: a flood of /health makes at most one round of AWS calls per 3 s per
// instance (a round is one DescribeTable per table, GetQueueAttributes, HeadBucket). It
// also lists each store region as this instance's failure detector sees it.
import { Hono } from 'hono'

export interface EngineProbe {
  engine: string
  /** Resolves when the engine answered; rejects (or times out) when it didn't. */
  check(signal: AbortSignal): Promise<void>
}

export interface EngineHealth {
  ok: boolean
  latencyMs: number
  error?: string
}

export const healthProbeTimeoutMs = 2_000

export async function probeEngines(probes: readonly EngineProbe[]) {
  const results = await Promise.all(
    probes.map(async (probe): Promise<[string, EngineHealth]> => {
      const started = performance.now()
      const signal = AbortSignal.timeout(healthProbeTimeoutMs)
      try {
        await probe.check(signal)
        return [probe.engine, { ok: true, latencyMs: elapsed(started) }]
      } catch (error) {
        const message = signal.aborted
          ? `no answer within ${healthProbeTimeoutMs} ms`
          : String((error as Error).message)
        return [probe.engine, { ok: false, latencyMs: elapsed(started), error: message }]
      }
    }),
  )
  const engines = Object.fromEntries(results)
  const ok = results.every(([, health]) => health.ok)
  return { status: ok ? ('ok' as const) : ('unavailable' as const), engines }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10
}

export const healthCacheMs = 3_000

export type HealthReport = Awaited<ReturnType<typeof probeEngines>>

/**
 * One probe round shared by every caller: a round started less than `cacheMs` ago (or
 * still running) is the answer. The report says when it was taken (`checkedAgoMs`).
 */
export function sharedProbeRound(
  probes: readonly EngineProbe[],
  cacheMs = healthCacheMs,
  nowMs: () => number = () => performance.now(),
): () => Promise<HealthReport & { checkedAgoMs: number }> {
  let round: { startedMs: number; report: Promise<HealthReport> } | undefined
  return async () => {
    const now = nowMs()
    if (!round || now - round.startedMs >= cacheMs) {
      round = { startedMs: now, report: probeEngines(probes) }
    }
    const { startedMs, report } = round
    const result = await report
    return { ...result, checkedAgoMs: Math.max(0, Math.round(nowMs() - startedMs)) }
  }
}

/** A store region as /health shows it: this instance's failure detector's state. */
export interface RegionHealth {
  region: string
  state: 'trusted' | 'suspected'
  since: string
}

/**
 * `regions` adds the failure detector's view (no AWS call: what this instance's own calls
 * found). A suspected region does not make the answer 503: the other regions serve, and
 * its keys get 503 region-unavailable themselves.
 */
export function healthRoutes(
  probes: readonly EngineProbe[],
  regions?: () => readonly RegionHealth[],
) {
  const check = sharedProbeRound(probes)
  return new Hono().get('/', async (c) => {
    const report = await check()
    c.header('cache-control', 'no-store')
    const body = regions
      ? {
          ...report,
          regions: regions().map(({ region, state, since }) => ({ region, state, since })),
        }
      : report
    return c.json(body, report.status === 'ok' ? 200 : 503)
  })
}
