// The KeyRouter and config resolver backed by @meridian/ring: the ring built from a config
// gives each key's preference list, and the ring's own validation (strict, defaults written
// out) checks every config before it is stored.
import { movementPlan, resolveRingConfig, ringFromConfig } from '@meridian/ring'
import {
  type KeyRouterFactory,
  layoutOf,
  type RingConfig,
  type RingConfigResolver,
  type RingLayout,
} from './ring-config'

export const ringRouterFactory: KeyRouterFactory = (config) => ringFromConfig(config)

export const resolveRingLayout: RingConfigResolver = (layout) => {
  // The version is the store's business; the ring only needs a valid one to resolve.
  const { version: _version, ...resolved } = resolveRingConfig({ ...layout, version: 0 })
  return resolved as RingLayout
}

/**
 * The regions that lose keys when the ring goes from `from` to `to`: only their tables
 * are scanned by a migration (a region that only gains keys has nothing to hand over).
 */
export function losingRegions(from: RingConfig, to: RingConfig): string[] {
  const build = (config: RingConfig) => ringFromConfig({ ...layoutOf(config), version: 0 })
  const regionOf = new Map(
    [...from.nodes, ...to.nodes].map((node) => [node.id, node.region] as const),
  )
  const fromRegion = new Map(from.nodes.map((node) => [node.id, node.region] as const))
  const losing = new Set<string>()
  for (const transfer of movementPlan(build(from), build(to)).transfers) {
    const source = fromRegion.get(transfer.from) ?? regionOf.get(transfer.from)
    const target = regionOf.get(transfer.to)
    if (source !== undefined && source !== target) losing.add(source)
  }
  return [...losing].sort()
}
