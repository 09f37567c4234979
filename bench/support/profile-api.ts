// Profiles the API process under the api bench's load: the local runtime serves the API
// here, autocannon drives GET or PUT /kv/:key from a child process (16 connections), and
// the V8 sampling profiler records only the measured seconds (after a warm-up). Writes a
// .cpuprofile for bench/support/profile-summary.ts. Not a bench: it prints no JSON line.
//
//   npx tsx bench/support/profile-api.ts GET /tmp/get.cpuprofile [seconds]
//   npx tsx bench/support/profile-api.ts GET - [seconds]     (no profile: CPU per request only)
import '@meridian/local/process-defaults'
import { fork } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { fileURLToPath } from 'node:url'
import { startLocalRuntime } from '@meridian/local'
import type { LoadJob, LoadResult } from './http-load'

process.env.MERIDIAN_RATE_LIMIT_PER_SECOND ??= '100000'
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN'

const method = (process.argv[2] ?? 'GET') as 'GET' | 'PUT'
const output = process.argv[3] ?? `/tmp/api-${method.toLowerCase()}.cpuprofile`
const seconds = Number(process.argv[4] ?? 10)
const value = 'v'.repeat(100)
const keysCount = 256

const runtime = await startLocalRuntime({ port: 0, concurrency: 1 })
const loader = fork(fileURLToPath(new URL('./http-load.ts', import.meta.url)), [], {
  execArgv: ['--import', 'tsx'],
})
try {
  const admin = { authorization: `Bearer ${runtime.adminApiKey}` }
  const created = await fetch(`${runtime.url}/admin/keys`, {
    method: 'POST',
    headers: { ...admin, 'content-type': 'application/json' },
    body: JSON.stringify({ tenant: 'bench', scopes: ['kv:read', 'kv:write'], name: 'bench' }),
  })
  const { key } = (await created.json()) as { key: string }
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'text/plain' }
  for (let index = 0; index < keysCount; index++)
    await fetch(`${runtime.url}/kv/bench-${index}`, { method: 'PUT', headers, body: value })
  const load = (durationSeconds: number) =>
    new Promise<LoadResult>((resolve, reject) => {
      loader.once('message', (message: { result?: LoadResult; error?: string }) =>
        message.result ? resolve(message.result) : reject(new Error(message.error)),
      )
      loader.send({
        url: runtime.url,
        method,
        headers,
        ...(method === 'PUT' && { body: value }),
        connections: 16,
        pathPrefix: '/kv/bench-',
        pathCount: keysCount,
        durationSeconds,
      } satisfies LoadJob)
    })
  await load(5)
  const session = new Session()
  session.connect()
  const profiling = output !== '-'
  if (profiling) {
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 200 })
    await session.post('Profiler.start')
  }
  const cpuStarted = process.cpuUsage()
  const result = await load(seconds)
  const cpu = process.cpuUsage(cpuStarted)
  if (profiling)
    writeFileSync(output, JSON.stringify((await session.post('Profiler.stop')).profile))
  console.log(
    `${method}: ${Math.round(result.ok / result.durationSeconds)} req/s, p99 ${result.p99Ms} ms, ` +
      `API process CPU ${Math.round((cpu.user + cpu.system) / result.ok)} µs/request${profiling ? `; profile in ${output}` : ''}`,
  )
} finally {
  loader.disconnect()
  await runtime.stop()
}
