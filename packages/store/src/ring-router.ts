// The KeyRouter and config resolver backed by @meridian/ring: the ring built from a config
// gives each key's preference list, and the ring's own validation (strict, defaults written
// out) checks every config before it is stored.
import { resolveRingConfig, ringFromConfig } from '@meridian/ring'
import type { KeyRouterFactory, RingConfigResolver, RingLayout } from './ring-config'

export const ringRouterFactory: KeyRouterFactory = (config) => ringFromConfig(config)

export const resolveRingLayout: RingConfigResolver = (layout) => {
  // The version is the store's business; the ring only needs a valid one to resolve.
  const { version: _version, ...resolved } = resolveRingConfig({ ...layout, version: 0 })
  return resolved as RingLayout
}
