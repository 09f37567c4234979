import { describe, expect, it } from 'vitest'
import { MemoryRingConfigStore } from './memory-ring'
import { RingCache } from './ring-cache'
import { initialRingConfig, type KeyRouterFactory } from './ring-config'
import { ringRouterFactory } from './ring-router'

describe('RingCache', () => {
  it('reuses the routers of an unchanged config on reload, and builds a changed one anew', async () => {
    let nowMs = 0
    let builds = 0
    const counting: KeyRouterFactory = (config) => {
      builds++
      return ringRouterFactory(config)
    }
    const store = new MemoryRingConfigStore()
    const cache = new RingCache({
      store,
      routerFactory: counting,
      initialConfig: initialRingConfig(['us-east-1', 'eu-west-1']),
      stalenessMs: 1_000,
      nowMs: () => nowMs,
    })
    const first = await cache.current()
    const buildsAfterFirst = builds
    nowMs += 1_000
    const reloaded = await cache.current()
    const refreshed = await cache.refresh()
    expect(builds).toBe(buildsAfterFirst)
    expect(reloaded.router).toBe(first.router)
    expect(refreshed.router).toBe(first.router)

    // Another handler changed the stored config: the reload routes by the new one.
    await store.replace(first.config.version, initialRingConfig(['us-east-1']))
    const changed = await cache.refresh()
    expect(changed.config.version).toBe(first.config.version + 1)
    expect(changed.router).not.toBe(first.router)
    expect(changed.config.nodes.map((node) => node.region)).toEqual(['us-east-1'])
  })
})
