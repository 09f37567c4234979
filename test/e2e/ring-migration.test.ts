// A ring change through `npm start` over HTTP, with its real SQS worker and sweeper: CAS
// counters keep counting while a region drains; the runtime is killed (SIGKILL) in the
// middle of the drain and started again on the same data, and the migration completes with
// every acknowledged increment in place. Then the region comes back at weight 2.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateApiKey } from '@meridian/api/api-keys'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../../packages/local/src/free-port'
import { killAndWait, killGroup, startNpm } from '../support/npm-start'

const dataDirectory = mkdtempSync(join(tmpdir(), 'meridian-ring-migration-'))
const adminKey = generateApiKey().key
const started: ChildProcess[] = []

afterAll(() => {
  for (const child of started) killGroup(child, 'SIGKILL')
  rmSync(dataDirectory, { recursive: true, force: true })
})

async function startRuntime(port: number): Promise<ChildProcess> {
  const env = { MERIDIAN_RING_STALENESS_MS: '500' }
  return (await startNpm({ port, dataDirectory, adminKey, env, started })).child
}

interface RingStatus {
  version: number
  state: 'stable' | 'migrating'
  config: { nodes: Array<{ id: string; region: string; weight: number }> }
  migration?: { ranges: { done: number; total: number } }
}

describe('a ring change through npm start', () => {
  it('drains a region under a CAS workload, survives a kill mid-migration, and adds it back', async () => {
    const port = await freePort()
    const base = `http://localhost:${port}`
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${base}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${adminKey}`, ...init.headers },
      })
    const ring = async () => (await (await call('/ring')).json()) as RingStatus
    const changeRing = async (nodes: RingStatus['config']['nodes']) => {
      const current = await ring()
      const answer = await call('/ring', {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'if-match': `"${current.version}"` },
        body: JSON.stringify({ nodes }),
      })
      expect(answer.status).toBe(202)
      return (await answer.json()) as RingStatus
    }
    const waitStable = async () => {
      const deadline = Date.now() + 45_000
      let status = await ring()
      while (status.state !== 'stable' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200))
        status = await ring()
      }
      return status
    }

    let runtime = await startRuntime(port)
    const keys = Array.from({ length: 40 }, (_, index) => `e2e-counter-${index}`)
    for (const key of keys) {
      expect((await call(`/kv/${key}`, { method: 'PUT', body: '0' })).status).toBe(201)
    }
    const acknowledged = new Map(keys.map((key) => [key, 0]))
    let running = true
    const failures: string[] = []
    const worker = async (index: number) => {
      let step = index
      while (running) {
        const key = keys[step++ % keys.length]!
        try {
          const read = await call(`/kv/${key}`)
          if (read.status !== 200) {
            if (read.status !== 503) failures.push(`GET ${key}: ${read.status}`)
            continue
          }
          const value = Number(await read.text())
          const write = await call(`/kv/${key}`, {
            method: 'PUT',
            headers: { 'if-match': read.headers.get('etag')! },
            body: String(value + 1),
          })
          if (write.status === 200) acknowledged.set(key, acknowledged.get(key)! + 1)
          else if (write.status !== 412 && write.status !== 503) {
            failures.push(`PUT ${key}: ${write.status} ${await write.text()}`)
          }
        } catch {
          // The runtime is down (killed on purpose): the request never got an answer.
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      }
    }
    const workers = Promise.all([0, 1, 2].map(worker))

    const before = await ring()
    const drained = before.config.nodes[0]!
    const migrating = await changeRing(before.config.nodes.filter((node) => node !== drained))
    expect(migrating.state).toBe('migrating')
    const atKill = await ring()
    await killAndWait(runtime)
    // Killed with range tasks still to run: their messages die with fauxqs's memory.
    expect(atKill.state).toBe('migrating')
    expect(atKill.migration!.ranges.done).toBeLessThan(atKill.migration!.ranges.total)
    runtime = await startRuntime(port)
    const afterDrain = await waitStable()
    expect(afterDrain.state).toBe('stable')
    expect(afterDrain.config.nodes.map((node) => node.region)).not.toContain(drained.region)

    await changeRing([...afterDrain.config.nodes, { ...drained, id: 'back', weight: 2 }])
    expect((await waitStable()).state).toBe('stable')

    running = false
    await workers
    expect(failures).toEqual([])
    expect([...acknowledged.values()].reduce((sum, count) => sum + count, 0)).toBeGreaterThan(0)
    for (const key of keys) {
      // An increment whose answer was lost in the kill may have happened: at least, never less.
      const value = Number(await (await call(`/kv/${key}`)).text())
      expect(value, key).toBeGreaterThanOrEqual(acknowledged.get(key)!)
      expect(value, key).toBeLessThanOrEqual(acknowledged.get(key)! + 3)
    }
    const owners = await Promise.all(
      keys.map(async (key) => (await (await call(`/ring/owners/${key}`)).json()).owners[0].region),
    )
    expect(owners).toContain(drained.region)
    await killAndWait(runtime)
  }, 150_000)
})
