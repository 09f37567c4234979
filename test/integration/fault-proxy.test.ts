// The fault proxy (test/support/fault-proxy.ts) on a plain TCP echo server and in front of
// DynamoDB Local through the real SDK: it forwards byte for byte, holds each chunk for the
// direction's delay (checked with a manual scheduler, not a clock), blackholes and resets
// connections when switched at run time, and refuses any target but 127.0.0.1.
import { once } from 'node:events'
import { createServer, type Server, Socket } from 'node:net'
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb'
import { afterEach, describe, expect, it } from 'vitest'
import { FaultProxy, FaultProxyTargetError } from '../support/fault-proxy'

const cleanups: Array<() => Promise<unknown> | unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** An echo server that also records every byte it received. */
async function echoServer(): Promise<{ port: number; received: () => string }> {
  let received = ''
  const server: Server = createServer((socket) => {
    socket.on('data', (chunk) => {
      received += chunk.toString()
      socket.write(chunk)
    })
    socket.on('error', () => {})
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  cleanups.push(() => new Promise((resolve) => server.close(resolve)))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('no port')
  return { port: address.port, received: () => received }
}

async function connect(port: number): Promise<Socket> {
  const socket = new Socket()
  socket.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  cleanups.push(() => socket.destroy())
  return socket
}

/** Reads from `socket` until `length` bytes arrived. */
async function read(socket: Socket, length: number): Promise<string> {
  let text = ''
  while (text.length < length) text += ((await once(socket, 'data')) as [Buffer])[0].toString()
  return text
}

async function proxyTo(
  target: string | number,
  options: Partial<Parameters<typeof FaultProxy.start>[0]> = {},
) {
  const proxy = await FaultProxy.start({ target, ...options })
  cleanups.push(() => proxy.close())
  return proxy
}

/** A scheduler the test releases by hand: what was held, and for how long. */
function manualScheduler() {
  const held: Array<{ ms: number; release: () => void }> = []
  return {
    held,
    schedule: (release: () => void, ms: number) => void held.push({ ms, release }),
    releaseAll: () => {
      for (const entry of held.splice(0)) entry.release()
    },
  }
}

function dynamo(endpoint: string): DynamoDBClient {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  })
  cleanups.push(() => client.destroy())
  return client
}

describe('fault proxy', () => {
  it('forwards both directions byte for byte on several connections', async () => {
    const echo = await echoServer()
    const proxy = await proxyTo(echo.port)
    const [first, second] = [await connect(proxy.port), await connect(proxy.port)]
    first.write('hello')
    second.write('world!')
    expect(await read(first, 5)).toBe('hello')
    expect(await read(second, 6)).toBe('world!')
    expect(proxy.stats).toMatchObject({ connectionsAccepted: 2, connectionsOpen: 2 })
  })

  it('holds each chunk for its direction’s delay, in order, switchable at run time', async () => {
    const echo = await echoServer()
    const scheduler = manualScheduler()
    const proxy = await proxyTo(echo.port, { schedule: scheduler.schedule })
    proxy.setDelay({ toTargetMs: 7, toClientMs: 3 })
    const socket = await connect(proxy.port)
    socket.write('ping')
    await expect.poll(() => scheduler.held.length).toBe(1)
    expect(scheduler.held[0]!.ms).toBe(7)
    expect(echo.received()).toBe('')
    scheduler.releaseAll()
    // The echo comes back and is held on the way to the client.
    await expect.poll(() => scheduler.held.length).toBe(1)
    expect(echo.received()).toBe('ping')
    expect(scheduler.held[0]!.ms).toBe(3)
    const answer = read(socket, 4)
    scheduler.releaseAll()
    expect(await answer).toBe('ping')

    proxy.setRoundTrip(5)
    socket.write('again')
    await expect.poll(() => scheduler.held.length).toBe(1)
    expect(scheduler.held[0]!.ms).toBe(3)
    scheduler.releaseAll()
    await expect.poll(() => scheduler.held.length).toBe(1)
    expect(scheduler.held[0]!.ms).toBe(2)
    scheduler.releaseAll()
    expect(await read(socket, 5)).toBe('again')
  })

  it('blackholes open and new connections, dropping what is in flight, and recovers', async () => {
    const echo = await echoServer()
    const scheduler = manualScheduler()
    const proxy = await proxyTo(echo.port, { schedule: scheduler.schedule })
    proxy.setDelay({ toTargetMs: 1 })
    const open = await connect(proxy.port)
    open.write('held')
    await expect.poll(() => scheduler.held.length).toBe(1)
    proxy.setMode('blackhole')
    // A chunk held when the route died is dropped, and so is everything sent after.
    scheduler.releaseAll()
    open.write('lost')
    const late = await connect(proxy.port)
    late.write('also lost')
    await expect
      .poll(() => proxy.stats.bytesDroppedToTarget)
      .toBe('held'.length + 'lost'.length + 'also lost'.length)
    expect(echo.received()).toBe('')
    expect(proxy.stats.connectionsOpen).toBe(2)

    proxy.setMode('forward')
    proxy.setDelay({ toTargetMs: 0 })
    const fresh = await connect(proxy.port)
    fresh.write('back')
    expect(await read(fresh, 4)).toBe('back')
    expect(echo.received()).toBe('back')
  })

  it('resets open connections and each new one while in reset mode', async () => {
    const echo = await echoServer()
    const proxy = await proxyTo(echo.port)
    const open = await connect(proxy.port)
    open.write('a')
    expect(await read(open, 1)).toBe('a')
    const openError = once(open, 'error')
    proxy.setMode('reset')
    expect(((await openError) as [NodeJS.ErrnoException])[0].code).toBe('ECONNRESET')
    const next = new Socket()
    cleanups.push(() => next.destroy())
    next.connect(proxy.port, '127.0.0.1')
    expect(((await once(next, 'error')) as [NodeJS.ErrnoException])[0].code).toBe('ECONNRESET')
    expect(proxy.stats.connectionsOpen).toBe(0)
  })

  it('puts faults between the AWS SDK and DynamoDB Local', async () => {
    const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB!
    const proxy = await proxyTo(endpoint)
    const client = dynamo(proxy.endpoint)
    const direct = await dynamo(endpoint).send(new ListTablesCommand({}))
    const proxied = await client.send(new ListTablesCommand({}))
    expect(proxied.TableNames).toEqual(direct.TableNames)

    proxy.setMode('blackhole')
    await expect(
      client.send(new ListTablesCommand({}), { abortSignal: AbortSignal.timeout(500) }),
    ).rejects.toThrow()
    expect(proxy.stats.bytesDroppedToTarget).toBeGreaterThan(0)

    proxy.setMode('reset')
    await expect(client.send(new ListTablesCommand({}))).rejects.toMatchObject({
      code: 'ECONNRESET',
    })

    proxy.setMode('forward')
    expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual(direct.TableNames)
  })

  it('refuses every target but 127.0.0.1', async () => {
    for (const target of [
      'http://localhost:8000',
      'http://10.0.0.1:8000',
      'http://[::1]:8000',
      'https://dynamodb.us-east-1.amazonaws.com',
      'not a url',
      0,
      70_000,
    ]) {
      await expect(FaultProxy.start({ target })).rejects.toBeInstanceOf(FaultProxyTargetError)
    }
  })
})
