// Nothing acknowledged is lost when `npm start` is killed with SIGKILL (no shutdown code
// runs) and started again on the same data directory: KV items, a held lock and its fence,
// a committed transaction, uploaded job inputs, and a job killed halfway through its map
// stage, which finishes after the restart with the right output.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateApiKey } from '@meridian/api/api-keys'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../../packages/local/src/free-port'
import { killAndWait, killGroup, startNpm } from '../support/npm-start'

const dataDirectory = mkdtempSync(join(tmpdir(), 'meridian-kill-restart-'))
const adminKey = generateApiKey().key
const started: ChildProcess[] = []

afterAll(() => {
  for (const child of started) killGroup(child, 'SIGKILL')
  rmSync(dataDirectory, { recursive: true, force: true })
})

/** `npm start` on the shared data directory, once it is ready. */
async function startRuntime(port: number): Promise<ChildProcess> {
  const runtime = await startNpm({
    port,
    dataDirectory,
    adminKey,
    // One invocation thread: the map stage takes long enough to be caught halfway.
    env: { MERIDIAN_CONCURRENCY: '1' },
    started,
  })
  expect(runtime.output()).toContain(`(data in ${dataDirectory})`)
  return runtime.child
}

/** Words drawn from a fixed list by a simple recurrence: the same text on every run. */
function inputText(lines: number): string {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta']
  const text: string[] = []
  let state = 7
  for (let line = 0; line < lines; line++) {
    const lineWords: string[] = []
    for (let word = 0; word < 8; word++) {
      state = (state * 1103515245 + 12345) % 2147483648
      lineWords.push(words[state % words.length]!)
    }
    text.push(lineWords.join(' '))
  }
  return `${text.join('\n')}\n`
}

function countWords(text: string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const word of text.split(/\s+/).filter(Boolean))
    counts.set(word, (counts.get(word) ?? 0) + 1)
  return counts
}

describe('npm start killed with SIGKILL and started again', () => {
  it('keeps KV items, the lock and its fence, the transaction and the inputs, and finishes the job', async () => {
    const port = await freePort()
    const base = `http://localhost:${port}`
    const auth = { authorization: `Bearer ${adminKey}` }
    const json = { ...auth, 'content-type': 'application/json' }
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${base}${path}`, { ...init, headers: { ...auth, ...init.headers } })

    const first = await startRuntime(port)

    // KV items, a held lock, a committed transaction.
    for (const [key, value] of [
      ['survivor/a', 'one'],
      ['survivor/b', 'two'],
    ]) {
      expect((await call(`/kv/${key}`, { method: 'PUT', body: value })).status).toBe(201)
    }
    const acquired = await call('/locks/survivor-lock/acquire', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ owner: 'before-kill', leaseMs: 600_000 }),
    })
    expect(acquired.status).toBe(200)
    const { fence } = (await acquired.json()) as { fence: number }
    const transaction = await call('/txn', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        operations: [
          { op: 'put', key: 'survivor/txn-1', value: 'x' },
          { op: 'put', key: 'survivor/txn-2', value: 'y' },
        ],
      }),
    })
    expect(transaction.status).toBe(200)
    const { id: transactionId, state: transactionState } = (await transaction.json()) as {
      id: string
      state: string
    }

    // Job inputs (two objects, ~40 map tasks of 1 KiB), then the job.
    const inputs = [inputText(300), inputText(310)]
    for (const [index, text] of inputs.entries()) {
      const upload = await call(`/jobs/inputs/kill-restart/part-${index}.txt`, {
        method: 'PUT',
        body: text,
      })
      expect(upload.status).toBeLessThan(300)
    }
    const submitted = await call('/jobs', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        job: 'word-count',
        input: { prefix: 'kill-restart/' },
        splitBytes: 1024,
      }),
    })
    expect(submitted.status).toBe(201)
    const { id: jobId } = (await submitted.json()) as { id: string }

    // Kill once some map tasks are done (their intermediates are in S3) and others are not.
    let atKill: { state: string; stage: string; tasks: { done: number; total: number } }
    for (;;) {
      atKill = await (await call(`/jobs/${jobId}`)).json()
      if (atKill.tasks.done > 0 || atKill.state !== 'RUNNING') break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await killAndWait(first)
    expect(atKill).toMatchObject({ state: 'RUNNING', stage: 'map' })
    expect(atKill.tasks.done).toBeLessThan(atKill.tasks.total)

    const second = await startRuntime(port)

    expect(await (await call('/kv/survivor/a')).text()).toBe('one')
    expect(await (await call('/kv/survivor/b')).text()).toBe('two')
    expect(await (await call('/kv/survivor/txn-1')).text()).toBe('x')
    expect(await (await call('/kv/survivor/txn-2')).text()).toBe('y')
    expect(await (await call(`/txn/${transactionId}`)).json()).toMatchObject({
      state: transactionState,
    })
    expect(await (await call('/locks/survivor-lock')).json()).toMatchObject({
      held: true,
      owner: 'before-kill',
      fence,
    })

    // The job's lost task messages are re-sent at start; it completes with the right counts.
    let job: { state: string }
    const deadline = Date.now() + 30_000
    do {
      await new Promise((resolve) => setTimeout(resolve, 100))
      job = await (await call(`/jobs/${jobId}`)).json()
    } while (job.state === 'RUNNING' && Date.now() < deadline)
    expect(job.state).toBe('SUCCEEDED')
    const output = await (await call(`/jobs/${jobId}/output`)).text()
    const counted = new Map(
      output
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as [string, number]),
    )
    expect(counted).toEqual(countWords(inputs.join('')))

    await killAndWait(second)
  }, 90_000)
})
