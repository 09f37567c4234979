// `MERIDIAN_EDGE=1 npm start`: the edge on PORT and one API per store region on the ports
// it logs. Every KV request through the edge is served by the API of the region
// GET /ring/owners names (after the key's first request teaches the edge its tenant);
// the other routes go to the home region's API; the regional APIs authenticate directly.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateApiKey } from '@meridian/api/api-keys'
import { stageConfig } from '@meridian/aws'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../../packages/local/src/free-port'
import { killAndWait, type StartedRuntime, startNpm } from '../support/npm-start'

const scratch = mkdtempSync(join(tmpdir(), 'meridian-edge-'))
const started: ChildProcess[] = []
let runtime: StartedRuntime | undefined

afterAll(async () => {
  if (runtime) await killAndWait(runtime.child)
  rmSync(scratch, { recursive: true, force: true })
})

describe('npm start with the edge tier', () => {
  it('routes each key to its owner region and everything else home', async () => {
    const port = await freePort()
    const adminKey = generateApiKey().key
    runtime = await startNpm({
      port,
      dataDirectory: join(scratch, 'data'),
      adminKey,
      env: { MERIDIAN_PERSIST: '0', MERIDIAN_EDGE: '1', MERIDIAN_CONCURRENCY: '1' },
      started,
    })
    const apis = Object.fromEntries(
      [...runtime.output().matchAll(/api (\S+): (http:\/\/127\.0\.0\.1:\d+)/g)].map((match) => [
        match[1]!,
        match[2]!,
      ]),
    )
    expect(Object.keys(apis).sort()).toEqual([...stageConfig.storeRegions].sort())
    const edge = `http://127.0.0.1:${port}`
    const created = await fetch(`${edge}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'edge-e2e', scopes: ['kv:read', 'kv:write'], name: 'e2e' }),
    })
    expect(created.status).toBe(201)
    expect(created.headers.get('meridian-edge-route')).toBe('home')
    const auth = { authorization: `Bearer ${((await created.json()) as { key: string }).key}` }

    const first = await fetch(`${edge}/kv/first`, { method: 'PUT', headers: auth, body: '1' })
    expect(first.headers.get('meridian-edge-route')).toBe('home')
    const servedBy = new Set<string>()
    for (let index = 0; index < 30; index++) {
      const owners = await fetch(`${edge}/ring/owners/key-${index}`, { headers: auth })
      const owner = ((await owners.json()) as { owners: Array<{ region: string }> }).owners[0]!
        .region
      const put = await fetch(`${edge}/kv/key-${index}`, {
        method: 'PUT',
        headers: auth,
        body: `${index}`,
      })
      expect(put.status).toBe(201)
      const read = await fetch(`${edge}/kv/key-${index}`, { headers: auth })
      expect(await read.text()).toBe(`${index}`)
      for (const answer of [put, read]) {
        expect(answer.headers.get('meridian-edge-route')).toBe(owner)
        expect(answer.headers.get('meridian-region')).toBe(owner)
      }
      servedBy.add(owner)
    }
    expect(servedBy.size).toBeGreaterThan(1)
    // A regional API called directly authenticates as the edge's path does.
    for (const url of Object.values(apis)) {
      expect((await fetch(`${url}/kv/first`)).status).toBe(401)
      expect(await (await fetch(`${url}/kv/first`, { headers: auth })).text()).toBe('1')
    }
  })
})
