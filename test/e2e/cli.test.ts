// The `meridian` CLI as a user runs it: the binary npm links into node_modules/.bin, as a
// child process, against `npm start` (configured by the MERIDIAN_URL/MERIDIAN_KEY line the
// runtime prints). Checks exit codes (0 ok, 2 usage, 3 not found, 4 conflict), --json
// output, a problem+json answer as one stderr line, `lock run` (fence in the environment,
// release after, a second run refused while the first holds the lock, a lost lock stopping
// the command), a word count followed with --watch to SUCCEEDED, and `ring show`.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateApiKey } from '@meridian/api/api-keys'
import { repositoryRoot } from '@meridian/local'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../packages/local/src/free-port'
import { killAndWait, type StartedRuntime, startNpm } from '../support/npm-start'

const binary = join(repositoryRoot, 'node_modules', '.bin', 'meridian')
const started: ChildProcess[] = []
const scratch = mkdtempSync(join(tmpdir(), 'meridian-cli-'))
let runtime: StartedRuntime
let environment: Record<string, string>
let adminKeyInUse: string

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the CLI to its end (bounded), with MERIDIAN_URL/KEY from the runtime's banner. */
function meridian(args: string[], options: { env?: Record<string, string> } = {}) {
  const child = spawn(binary, args, {
    env: { ...process.env, NO_COLOR: '1', ...environment, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  started.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const done = new Promise<Run>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
  return { done, output: () => stdout }
}

const run = (...args: string[]) => meridian(args).done

beforeAll(async () => {
  const adminKey = generateApiKey().key
  runtime = await startNpm({
    port: await freePort(),
    dataDirectory: join(scratch, 'data'),
    adminKey,
    env: { MERIDIAN_PERSIST: '0', MERIDIAN_CONCURRENCY: '2' },
    started,
  })
  // The banner's line, as a user pastes it (the chosen admin key stays out of the log).
  const line = /^export MERIDIAN_URL=(\S+) MERIDIAN_KEY=(\S+)$/m.exec(runtime.output())
  expect(line?.[2]).toBe('"$MERIDIAN_ADMIN_KEY"')
  environment = { MERIDIAN_URL: line![1]!, MERIDIAN_KEY: adminKey }
  adminKeyInUse = adminKey
  const created = await run(
    'keys',
    'create',
    '--tenant',
    `cli-${Date.now().toString(36)}`,
    ...['kv:read', 'kv:write', 'lock', 'txn', 'jobs'].flatMap((scope) => ['--scope', scope]),
    '--json',
  )
  expect(created.code, created.stderr).toBe(0)
  environment.MERIDIAN_KEY = (JSON.parse(created.stdout) as { key: string }).key
}, 90_000)

afterAll(async () => {
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill()
  if (runtime) await killAndWait(runtime.child)
  rmSync(scratch, { recursive: true, force: true })
})

describe.concurrent('meridian', () => {
  it('puts, reads, swaps and deletes a value with exit codes 0, 3 and 4', async () => {
    expect((await run('kv', 'put', 'greeting', 'hello')).code).toBe(0)
    const read = await run('kv', 'get', 'greeting', '--json')
    expect(read.code).toBe(0)
    expect(JSON.parse(read.stdout)).toMatchObject({ key: 'greeting', version: 1, value: 'hello' })

    const swapped = await run('kv', 'cas', 'greeting', '--from', 'hello', '--to', 'world', '--json')
    expect(swapped.code).toBe(0)
    expect(JSON.parse(swapped.stdout)).toEqual({ key: 'greeting', version: 2, previousVersion: 1 })
    const lost = await run('kv', 'cas', 'greeting', '--from', 'hello', '--to', 'again')
    expect(lost.code).toBe(4)
    expect(lost.stderr).toContain('greeting is "world" at version 2')

    // A problem+json answer is one readable line on stderr.
    const stale = await run('kv', 'put', 'greeting', 'late', '--if-match', '1')
    expect(stale.code).toBe(4)
    expect(stale.stdout).toBe('')
    expect(stale.stderr).toMatch(/^error: 412 version-mismatch: Version mismatch — .+\n$/)

    expect((await run('kv', 'delete', 'greeting')).code).toBe(0)
    const gone = await run('kv', 'get', 'greeting')
    expect(gone.code).toBe(3)
    expect(gone.stderr).toMatch(/^error: 404 not-found: /)
  })

  it('runs a command under a lock with its fence, refuses a second run meanwhile, and releases after', async () => {
    // The command holds the lock until the test lets it go (a file appears), bounded.
    const letGo = join(scratch, 'let-go')
    const first = meridian([
      'lock',
      'run',
      'nightly',
      '--lease',
      '1s',
      '--',
      'sh',
      '-c',
      `echo "fence=$MERIDIAN_FENCE"; i=0; while [ ! -f '${letGo}' ] && [ $i -lt 400 ]; do sleep 0.1; i=$((i+1)); done; sleep 1.5; exit 7`,
    ])
    const deadline = Date.now() + 30_000
    while (!first.output().includes('fence=') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50))
    const fence = Number(/fence=(\d+)/.exec(first.output())?.[1])
    expect(fence).toBeGreaterThanOrEqual(1)

    // Without --wait, a second run fails at once with the holder, exit 4.
    const second = await run('lock', 'run', 'nightly', '--', 'sh', '-c', 'echo should-not-run')
    writeFileSync(letGo, '')
    expect(second.code).toBe(4)
    expect(second.stdout).not.toContain('should-not-run')
    expect(second.stderr).toMatch(/^error: 409 lock-held: /)

    // The command outlived its 1 s lease (renewed meanwhile); its exit code is meridian's.
    const finished = await first.done
    expect(finished.code, finished.stderr).toBe(7)
    const status = await run('lock', 'status', 'nightly', '--json')
    expect(JSON.parse(status.stdout)).toEqual({ name: 'nightly', fence, held: false })
  })

  it('stops the command and exits 4 when the lock is lost', async () => {
    // The command gives its own lease away (as a takeover would take it), then would sleep
    // far past the test's bound: meridian exits only after the command does, so exit 4
    // (not a kill by the bound) means the lost lock terminated it.
    const lost = await run(
      'lock',
      'run',
      'fragile',
      '--lease',
      '1s',
      '--',
      'sh',
      '-c',
      `"${binary}" lock release fragile --owner "$MERIDIAN_LOCK_OWNER" --fence "$MERIDIAN_FENCE" && exec sleep 600`,
    )
    expect(lost.code).toBe(4)
    expect(lost.stderr).toContain('lost lock fragile')
    expect(lost.stderr).toContain('error: lock fragile was lost while the command ran')
  })

  it('submits a word count, follows it with --watch to SUCCEEDED, and reads its output', async () => {
    const records = join(scratch, 'words.txt')
    writeFileSync(records, 'the cat\nthe dog\n')
    const watched = await run('jobs', 'submit', 'word-count', '--records-file', records, '--watch')
    expect(watched.code, watched.stderr).toBe(0)
    expect(watched.stdout).toContain('SUCCEEDED')
    expect(watched.stderr).toMatch(/reduce r0: 4\/4 tasks \| SUCCEEDED/)
    const id = /^(\S+)\s+word-count/m.exec(watched.stdout)![1]!

    const output = await run('jobs', 'output', id)
    expect(output.code).toBe(0)
    const counts = Object.fromEntries(
      output.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    )
    expect(counts).toEqual({ the: 2, cat: 1, dog: 1 })
    const listed = await run('jobs', 'list', '--state', 'SUCCEEDED', '--json')
    expect(
      (JSON.parse(listed.stdout) as { items: { id: string }[] }).items[0]?.id,
      listed.stdout,
    ).toBe(id)
  })

  it('uploads a directory and runs a job over it with --input-dir', async () => {
    // A tenant of its own: the tests run concurrently, and the word count test checks that
    // its job is the newest in its tenant's listing.
    const created = await meridian(
      [
        'keys',
        'create',
        '--tenant',
        `cli-dir-${Date.now().toString(36)}`,
        '--scope',
        'jobs',
        '--json',
      ],
      { env: { MERIDIAN_KEY: adminKeyInUse } },
    ).done
    expect(created.code, created.stderr).toBe(0)
    const env = { MERIDIAN_KEY: (JSON.parse(created.stdout) as { key: string }).key }
    const runAs = (...args: string[]) => meridian(args, { env }).done
    const inputs = join(scratch, 'inputs')
    mkdirSync(join(inputs, 'nested'), { recursive: true })
    writeFileSync(join(inputs, 'a.txt'), 'red fish\nblue fish\n')
    writeFileSync(join(inputs, 'nested', 'b.txt'), 'one fish\n')
    const uploaded = await runAs('jobs', 'upload', inputs, '--prefix', 'fish', '--json')
    expect(uploaded.code, uploaded.stderr).toBe(0)
    expect(JSON.parse(uploaded.stdout)).toMatchObject({ prefix: 'fish', files: 2 })

    const watched = await runAs(
      'jobs',
      'submit',
      'word-count',
      '--input-dir',
      inputs,
      '--watch',
      '--json',
    )
    expect(watched.code, watched.stderr).toBe(0)
    const job = JSON.parse(watched.stdout) as { id: string; state: string }
    expect(job.state).toBe('SUCCEEDED')
    const output = await runAs('jobs', 'output', job.id)
    const counts = Object.fromEntries(
      output.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    )
    expect(counts).toEqual({ red: 1, blue: 1, one: 1, fish: 3 })
  })

  it('shows the ring: load per region and node, and a picture of the hash space', async () => {
    const shown = await run('ring', 'show', '--json')
    expect(shown.code).toBe(0)
    const ring = JSON.parse(shown.stdout) as {
      nodes: { id: string; share: number }[]
      regions: Record<string, { share: number }>
      picture: string
    }
    expect(ring.nodes.length).toBeGreaterThan(0)
    const total = ring.nodes.reduce((sum, node) => sum + node.share, 0)
    expect(total).toBeCloseTo(1, 9)
    expect(ring.picture).toMatch(/^[A-Za-z0-9]{64}$/)
    const text = await run('ring', 'show')
    expect(text.stdout).toContain(`hash space 0 … 2^53: ${ring.picture}`)
    for (const region of Object.keys(ring.regions)) expect(text.stdout).toContain(region)
  })

  it('answers usage errors with exit 2', async () => {
    expect((await run('kv', 'put')).code).toBe(2)
    expect((await run('jobs', 'list', '--state', 'DONE')).code).toBe(2)
    const unconfigured = await meridian(['health'], { env: { MERIDIAN_URL: '' } }).done
    expect(unconfigured.code).toBe(2)
    expect(unconfigured.stderr).toContain('MERIDIAN_URL')
  })
})
