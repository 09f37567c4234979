// GET /health: whether each engine answers. Probes run in parallel, each bounded by a
// timeout, and report latency; one engine down makes the answer 503 but still lists the
// others, so an operator sees at once which one is out.
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

export function healthRoutes(probes: readonly EngineProbe[]) {
  return new Hono().get('/', async (c) => {
    const report = await probeEngines(probes)
    c.header('cache-control', 'no-store')
    return c.json(report, report.status === 'ok' ? 200 : 503)
  })
}
