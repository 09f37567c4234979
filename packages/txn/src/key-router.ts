// KeyRouter implementations that need no ring: a fixed map for tests, and a hash over a
// region list. Production wiring routes through @meridian/ring, the same routing the KV
// store uses, so a transaction stages its intent in the region the store reads from.
import type { KeyRouter } from './ports'

/** FNV-1a over the key's UTF-16 code units, modulo the region count. Deterministic. */
export function hashModuloRouter(regions: readonly string[]): KeyRouter {
  if (regions.length === 0) throw new Error('hashModuloRouter needs at least one region')
  return {
    regionOf(routingKey: string): string {
      let hash = 0x811c9dc5
      for (let index = 0; index < routingKey.length; index++) {
        hash = Math.imul(hash ^ routingKey.charCodeAt(index), 0x01000193) >>> 0
      }
      return regions[hash % regions.length]!
    },
  }
}
