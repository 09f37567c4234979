// A TCP proxy on 127.0.0.1 that puts network faults between a client and a local engine,
// switchable while it runs: added delay per direction (each chunk is held that long, in
// order, so a request/response exchange costs `toTargetMs + toClientMs` more: a round
// trip), a blackhole (connections are accepted, nothing is forwarded, and bytes already
// in flight on open connections are dropped too, as a dead route drops packets: clients
// see silence and must time out), and reset (open connections and each new one are
// closed with a TCP RST, which clients see as ECONNRESET). Benches use the delay to model
// a region's round trip; tests blackhole or reset one region's DynamoDB.
//
//   const proxy = await FaultProxy.start({ target: engines.dynamodbEndpoint })
//   new DynamoDBClient({ endpoint: proxy.endpoint, ... })
//   proxy.setRoundTrip(5)   // 3 ms to DynamoDB, 2 ms back
//   proxy.setMode('blackhole'); proxy.setMode('reset'); proxy.setMode('forward')
//
// Targets are loopback only (127.0.0.1): the proxy is a test tool and must never relay
// traffic anywhere else.
import { createServer, type Server, Socket } from 'node:net'

export type FaultMode = 'forward' | 'blackhole' | 'reset'

export interface FaultDelay {
  /** Added to every chunk from the client to the target. */
  toTargetMs: number
  /** Added to every chunk from the target back to the client. */
  toClientMs: number
}

export interface FaultProxyOptions {
  /** `http://127.0.0.1:<port>` (an endpoint URL) or the port on 127.0.0.1. */
  target: string | number
  delay?: Partial<FaultDelay>
  mode?: FaultMode
  /** Holds a chunk for `ms` before calling `release`; tests pass a manual one. */
  schedule?: (release: () => void, ms: number) => void
}

export interface FaultProxyStats {
  connectionsAccepted: number
  connectionsOpen: number
  /** Bytes a blackhole swallowed, per direction. */
  bytesDroppedToTarget: number
  bytesDroppedToClient: number
}

export class FaultProxyTargetError extends Error {
  override name = 'FaultProxyTargetError'
  constructor(readonly target: string | number) {
    super(`A fault proxy forwards to 127.0.0.1 only, not to ${String(target)}`)
  }
}

const loopbackHost = '127.0.0.1'

export function loopbackPort(target: string | number): number {
  if (typeof target === 'number') {
    if (Number.isInteger(target) && target > 0 && target < 65_536) return target
    throw new FaultProxyTargetError(target)
  }
  let url: URL
  try {
    url = new URL(target)
  } catch {
    throw new FaultProxyTargetError(target)
  }
  const port = Number(url.port)
  if (url.hostname !== loopbackHost || !Number.isInteger(port) || port <= 0)
    throw new FaultProxyTargetError(target)
  return port
}

interface Pair {
  client: Socket
  target: Socket
}

export class FaultProxy {
  private delay: FaultDelay
  private mode: FaultMode
  private readonly pairs = new Set<Pair>()
  private readonly counters = {
    connectionsAccepted: 0,
    bytesDroppedToTarget: 0,
    bytesDroppedToClient: 0,
  }

  private constructor(
    private readonly server: Server,
    private readonly targetPort: number,
    private readonly schedule: (release: () => void, ms: number) => void,
    options: FaultProxyOptions,
  ) {
    this.delay = { toTargetMs: 0, toClientMs: 0, ...options.delay }
    this.mode = options.mode ?? 'forward'
    server.on('connection', (client) => this.accept(client))
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const targetPort = loopbackPort(options.target)
    const server = createServer({ noDelay: true })
    const proxy = new FaultProxy(
      server,
      targetPort,
      options.schedule ?? ((release, ms) => setTimeout(release, ms)),
      options,
    )
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, loopbackHost, () => resolve())
    })
    return proxy
  }

  get port(): number {
    const address = this.server.address()
    if (!address || typeof address === 'string') throw new Error('the proxy is not listening')
    return address.port
  }

  /** The URL to give a client instead of the target's. */
  get endpoint(): string {
    return `http://${loopbackHost}:${this.port}`
  }

  get stats(): FaultProxyStats {
    return { ...this.counters, connectionsOpen: this.pairs.size }
  }

  setDelay(delay: Partial<FaultDelay>): void {
    this.delay = { ...this.delay, ...delay }
  }

  /** A round trip of `rttMs` whole milliseconds (timers have 1 ms steps), split in two. */
  setRoundTrip(rttMs: number): void {
    const toTargetMs = Math.ceil(rttMs / 2)
    this.setDelay({ toTargetMs, toClientMs: rttMs - toTargetMs })
  }

  setMode(mode: FaultMode): void {
    this.mode = mode
    if (mode === 'reset') for (const pair of [...this.pairs]) this.reset(pair)
  }

  async close(): Promise<void> {
    for (const pair of [...this.pairs]) {
      pair.client.destroy()
      pair.target.destroy()
    }
    this.pairs.clear()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(client: Socket): void {
    this.counters.connectionsAccepted++
    client.setNoDelay(true)
    if (this.mode === 'reset') {
      client.resetAndDestroy()
      return
    }
    const target = new Socket()
    target.setNoDelay(true)
    const pair = { client, target }
    this.pairs.add(pair)
    const closeBoth = () => {
      this.pairs.delete(pair)
      client.destroy()
      target.destroy()
    }
    client.on('error', closeBoth).on('close', closeBoth)
    target.on('error', closeBoth).on('close', closeBoth)
    // Client bytes may arrive before the target connection is up: the socket buffers them.
    target.connect(this.targetPort, loopbackHost)
    this.relay(client, target, 'toTarget')
    this.relay(target, client, 'toClient')
  }

  /** Forwards `from` → `to` chunk by chunk, each held by the direction's delay, in order. */
  private relay(from: Socket, to: Socket, direction: 'toTarget' | 'toClient'): void {
    let releaseNotBeforeMs = 0
    from.on('data', (chunk: Buffer) => {
      if (this.mode === 'blackhole') {
        if (direction === 'toTarget') this.counters.bytesDroppedToTarget += chunk.length
        else this.counters.bytesDroppedToClient += chunk.length
        return
      }
      const delayMs = direction === 'toTarget' ? this.delay.toTargetMs : this.delay.toClientMs
      const write = () => {
        // Switched to blackhole while held: a dead route drops what is in flight too.
        if (this.mode === 'blackhole') {
          if (direction === 'toTarget') this.counters.bytesDroppedToTarget += chunk.length
          else this.counters.bytesDroppedToClient += chunk.length
          return
        }
        if (!to.destroyed) to.write(chunk)
      }
      if (delayMs <= 0) return write()
      // Later chunks never overtake earlier ones, even when the delay shrinks meanwhile.
      const nowMs = performance.now()
      const waitMs = Math.max(delayMs, releaseNotBeforeMs - nowMs)
      releaseNotBeforeMs = nowMs + waitMs
      this.schedule(write, waitMs)
    })
  }

  private reset(pair: Pair): void {
    this.pairs.delete(pair)
    if (!pair.client.destroyed) pair.client.resetAndDestroy()
    if (!pair.target.destroyed) pair.target.destroy()
  }
}
