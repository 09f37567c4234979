// `npm start` as a user runs it: a child process that prints its URL, answers /health
// with every engine up, and on Ctrl-C (SIGINT) stops everything it started, leaving no
// DynamoDB Local (Java) behind.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { repositoryRoot } from '@meridian/local'
import { describe, expect, it } from 'vitest'
import { freePort } from '../../packages/local/src/free-port'

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

describe('npm start', () => {
  it('serves /health with every engine up and stops everything on SIGINT', async () => {
    const port = await freePort()
    // Persistence is the default; this run keeps its data in a directory of its own.
    const dataDirectory = mkdtempSync(join(tmpdir(), 'meridian-npm-start-'))
    // Its own process group, signalled as a whole: exactly what Ctrl-C in a terminal does.
    const child = spawn('npm', ['start'], {
      cwd: repositoryRoot,
      env: { ...process.env, PORT: String(port), MERIDIAN_DATA_DIR: dataDirectory },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal)
      } catch {
        // The group is gone already.
      }
    }
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))

    try {
      await checkRunningThenInterrupt()
    } finally {
      signalGroup('SIGKILL')
      rmSync(dataDirectory, { recursive: true, force: true })
    }

    async function checkRunningThenInterrupt() {
      const deadline = Date.now() + 45_000
      while (!output.includes('ready in') && Date.now() < deadline && child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(output).toContain(`http://localhost:${port}`)
      expect(output).toContain(`(data in ${dataDirectory})`)
      // The bootstrap admin key is printed once, so the user can make the first request.
      expect(output).toMatch(/admin API key \(shown once; [^)]*\): mrd_[0-9a-f]{16}_[\w-]{43}/)
      // …and for the CLI, as a line to paste into a shell.
      const adminKey = /admin API key \([^)]*\): (\S+)/.exec(output)?.[1]
      expect(output).toContain(
        `\nexport MERIDIAN_URL=http://localhost:${port} MERIDIAN_KEY=${adminKey}\n`,
      )
      const dynamodbPort = Number(/DynamoDB Local http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1])

      const response = await fetch(`http://localhost:${port}/health`)
      expect(response.status).toBe(200)
      expect(await response.json()).toMatchObject({
        status: 'ok',
        engines: { dynamodb: { ok: true }, sqs: { ok: true }, s3: { ok: true } },
      })
      expect(await portAcceptsConnections(dynamodbPort)).toBe(true)

      signalGroup('SIGINT')
      // npm re-raises the signal on itself, so its exit status says nothing; the
      // runtime's own last line and the closed ports do.
      await exited
      const stopDeadline = Date.now() + 15_000
      while (!output.includes('[meridian] stopped') && Date.now() < stopDeadline) {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(output).toContain('[meridian] stopped')
      expect(await portAcceptsConnections(dynamodbPort)).toBe(false)
      expect(await portAcceptsConnections(port)).toBe(false)
    }
  })
})
