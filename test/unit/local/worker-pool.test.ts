import { repositoryRoot, WorkerPool } from '@meridian/local'
import { afterEach, describe, expect, it } from 'vitest'

const handler = (name: string) => `test/fixtures/handlers.${name}`
const options = { functionName: 'fixture', timeoutMs: 10_000 }

describe('WorkerPool', () => {
  let pool: WorkerPool | undefined
  afterEach(async () => {
    await pool?.close()
    pool = undefined
  })

  it('invokes a TypeScript handler on a worker thread and returns its JSON result', async () => {
    pool = new WorkerPool({ rootDirectory: repositoryRoot, size: 1 })
    const outcome = await pool.invoke(handler('echo'), { hello: 'world' }, options)
    expect(outcome).toMatchObject({ ok: true, value: { event: { hello: 'world' } } })
    expect((outcome as { value: { threadId: number } }).value.threadId).toBeGreaterThan(0)
  })

  it('runs concurrent invocations on distinct threads, one per thread at a time', async () => {
    pool = new WorkerPool({ rootDirectory: repositoryRoot, size: 2 })
    const outcomes = await Promise.all(
      [0, 1, 2, 3].map(() => pool!.invoke(handler('sleepThenAnswer'), { ms: 200 }, options)),
    )
    const threads = new Set(
      outcomes.map((outcome) => (outcome as { value: { threadId: number } }).value.threadId),
    )
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true)
    expect(threads.size).toBe(2)
  })

  it('reports a thrown error by name and message', async () => {
    pool = new WorkerPool({ rootDirectory: repositoryRoot, size: 1 })
    const outcome = await pool.invoke(handler('fail'), {}, options)
    expect(outcome).toMatchObject({
      ok: false,
      error: { name: 'DeliberateError', message: 'the handler failed on purpose' },
    })
  })

  it('fails an invocation past its timeout and replaces the thread', async () => {
    pool = new WorkerPool({ rootDirectory: repositoryRoot, size: 1 })
    const first = await pool.invoke(handler('echo'), {}, options)
    const timedOut = await pool.invoke(
      handler('sleepThenAnswer'),
      { ms: 5_000 },
      {
        functionName: 'fixture',
        timeoutMs: 300,
      },
    )
    expect(timedOut).toMatchObject({ ok: false, error: { name: 'TimeoutError' } })
    const after = await pool.invoke(handler('echo'), {}, options)
    expect(after.ok).toBe(true)
    const threadOf = (outcome: typeof first) =>
      (outcome as { value: { threadId: number } }).value.threadId
    expect(threadOf(after)).not.toBe(threadOf(first))
  })

  it('fails an unknown handler export without breaking the pool', async () => {
    pool = new WorkerPool({ rootDirectory: repositoryRoot, size: 1 })
    const outcome = await pool.invoke(handler('nope'), {}, options)
    expect(outcome).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('nope') },
    })
    expect((await pool.invoke(handler('echo'), {}, options)).ok).toBe(true)
  })

  it('answers pending invocations when closed', async () => {
    pool = new WorkerPool({ rootDirectory: repositoryRoot, size: 1 })
    const running = pool.invoke(handler('sleepThenAnswer'), { ms: 5_000 }, options)
    const queued = pool.invoke(handler('echo'), {}, options)
    await new Promise((resolve) => setTimeout(resolve, 100))
    await pool.close()
    pool = undefined
    expect(await running).toMatchObject({ ok: false, error: { name: 'ShutdownError' } })
    expect(await queued).toMatchObject({ ok: false, error: { name: 'ShutdownError' } })
  })
})
