// `npm start` as the e2e tests run it: in its own process group (signalled as a whole,
// as Ctrl-C in a terminal would be), on a given data directory and admin key, resolved
// once it prints that it is ready.
import { type ChildProcess, spawn } from 'node:child_process'
import { repositoryRoot } from '@meridian/local'

export interface StartedRuntime {
  child: ChildProcess
  /** Everything it printed so far (stdout and stderr). */
  output(): string
}

export async function startNpm(options: {
  port: number
  dataDirectory: string
  adminKey: string
  env?: Record<string, string>
  started: ChildProcess[]
}): Promise<StartedRuntime> {
  const child = spawn('npm', ['start'], {
    cwd: repositoryRoot,
    env: {
      ...process.env,
      PORT: String(options.port),
      MERIDIAN_DATA_DIR: options.dataDirectory,
      MERIDIAN_ADMIN_KEY: options.adminKey,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  options.started.push(child)
  let output = ''
  const collect = (chunk: Buffer) => {
    output += chunk.toString()
  }
  child.stdout!.on('data', collect)
  child.stderr!.on('data', collect)
  const deadline = Date.now() + 40_000
  while (!output.includes('ready in') && Date.now() < deadline && child.exitCode === null)
    await new Promise((resolve) => setTimeout(resolve, 100))
  if (!output.includes('ready in')) throw new Error(`npm start did not get ready:\n${output}`)
  return { child, output: () => output }
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal)
  } catch {
    // The group is gone already.
  }
}

export async function killAndWait(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  killGroup(child, 'SIGKILL')
  await exited
}
