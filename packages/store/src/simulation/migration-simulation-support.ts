// What the ring migration simulations share (R = 1 and R > 1): a cheap router, a fake
// clock, and a store wrapper that crashes callers right after a write.
import { KeyMovedError, StaleRingError } from '../errors'
import type { MemoryRegionalStore } from '../memory-regional-store'
import type { RegionalStore } from '../regional-store'
import type { KeyRouterFactory, RingNode } from '../ring-config'

/** Weighted rendezvous hashing: cheap to build per config, moves only what it must. */
export const rendezvousRouter: KeyRouterFactory = (config) => ({
  preferenceList(routingKey: string, replicas: number): RingNode[] {
    const scored = config.nodes
      .filter((node) => node.weight > 0)
      .map((node) => {
        const hash = (fnv1a(`${node.id}|${routingKey}`) + 0.5) / 2 ** 32
        return { node, score: -node.weight / Math.log(hash) }
      })
      .sort((left, right) => right.score - left.score)
    return scored.slice(0, replicas).map((entry) => entry.node)
  },
})

function fnv1a(text: string): number {
  let hash = 0x811c9dc5
  for (let index = 0; index < text.length; index++) {
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193) >>> 0
  }
  return hash
}

export class Crash extends Error {
  override name = 'Crash'
}

export class Clock {
  constructor(public ms = 1_700_000_000_000) {}
  advance(ms: number) {
    this.ms += ms
  }
}

export const encode = (value: number) => new TextEncoder().encode(String(value))
export const decode = (bytes: Uint8Array) => Number(new TextDecoder().decode(bytes))

/**
 * Wraps a store so that, with `crash()`, a write happens and then its caller crashes; and
 * counts the refusals that send a handler with a stale ring on (moved keys, raised gates).
 */
export function crashingAfterWrites(
  store: MemoryRegionalStore,
  crash: () => boolean,
  onStaleRefusal: () => void,
): RegionalStore {
  const writes = new Set([
    'put',
    'delete',
    'freeze',
    'copyIn',
    'strip',
    'drop',
    'freezeAll',
    'copyInAll',
    'stripAll',
    'raiseGate',
  ])
  return new Proxy(store, {
    get(target, property, receiver) {
      const member = Reflect.get(target, property, receiver)
      if (typeof member !== 'function') return member
      // An async generator: reads only, passed through as it is.
      if (property === 'scan') return member.bind(target)
      return async (...args: unknown[]) => {
        try {
          const result = await member.apply(target, args)
          if (writes.has(String(property)) && crash()) {
            throw new Crash(`crash after ${String(property)}`)
          }
          return result
        } catch (error) {
          if (error instanceof KeyMovedError || error instanceof StaleRingError) {
            onStaleRefusal()
          }
          throw error
        }
      }
    },
  })
}
