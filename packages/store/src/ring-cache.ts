// A handler's copy of the ring: the stored config and the router built from it, reloaded
// once it is `stalenessMs` old. Within that bound a handler may route by a config that was
// replaced up to `stalenessMs` ago (plus the length of the request using it).
//
// What a stale ring means for correctness: nothing, by construction. A ring change is a
// migration (ring-migration.ts): before anyone routes by the new ring every store table's
// gate is raised, and a key moves by freezing its old copy, so a handler that routes by an
// older ring is refused where it would create a key, answer "absent" or write a moved key
// (StaleRingError, KeyMovedError); the KV service then reloads (`refresh`) and retries.
// The staleness bound only limits how often that happens.
//
// If the config can't be reloaded once it is stale, the cache fails (RingUnavailableError)
// rather than route by a config older than the bound.
import { InvalidRingConfigError, RingUnavailableError, RingVersionMismatchError } from './errors'
import type {
  KeyRouter,
  KeyRouterFactory,
  RingConfig,
  RingConfigResolver,
  RingConfigStore,
  RingLayout,
} from './ring-config'
import { layoutOf } from './ring-config'

export const defaultRingStalenessMs = 5_000

export interface CurrentRing {
  config: RingConfig
  /** Routes keys to the owners writes and reads go to. */
  router: KeyRouter
  /** While keys move (phase 'moving'): routes keys to their old owners, to pull them from. */
  previous?: KeyRouter
  /** The ring version requests carry to the stores' gates. */
  routeVersion: number
}

export interface RingCacheOptions {
  store: RingConfigStore
  routerFactory: KeyRouterFactory
  /** The config stored when none is (a fresh deployment): see initialRingConfig. */
  initialConfig: RingLayout
  /**
   * Checks a config before it is stored or used; throws InvalidRingConfigError. The KV
   * service checks that every node's region has a store and that there are enough regions
   * for its replication factor.
   */
  validate?: (config: RingLayout) => void
  /** Applied to a config before it is stored: see RingConfigResolver. */
  resolve?: RingConfigResolver
  stalenessMs?: number
  nowMs?: () => number
}

interface CacheEntry extends CurrentRing {
  loadedAtMs: number
}

export class RingCache {
  readonly stalenessMs: number
  private readonly options: RingCacheOptions
  private readonly nowMs: () => number
  private entry: CacheEntry | undefined
  private loading: Promise<CacheEntry> | undefined
  /**
   * The last config built, as its JSON, with what was built from it. A reload every
   * `stalenessMs` usually finds the same config; building its routers again (a range table
   * over every vnode) cost tens of milliseconds of the event loop under load each time.
   * Routers are immutable, so an unchanged config reuses them.
   */
  private lastBuilt: { json: string; ring: CurrentRing } | undefined

  constructor(options: RingCacheOptions) {
    this.options = options
    this.stalenessMs = options.stalenessMs ?? defaultRingStalenessMs
    this.nowMs = options.nowMs ?? Date.now
    if (!(this.stalenessMs >= 0)) throw new RangeError('stalenessMs must be >= 0')
  }

  /** The ring to route by: the cached one if younger than the bound, else a fresh load. */
  async current(): Promise<CurrentRing> {
    const entry = this.entry
    if (entry && this.nowMs() - entry.loadedAtMs < this.stalenessMs) return entry
    this.loading ??= this.load().finally(() => {
      this.loading = undefined
    })
    return this.loading
  }

  /** Reloads the config now (a store said this handler's ring is out of date). */
  async refresh(): Promise<CurrentRing> {
    this.entry = undefined
    return this.current()
  }

  /** Replaces the stored config if its version is `expectedVersion`; the cache takes it at once. */
  async replace(expectedVersion: number, config: RingLayout): Promise<RingConfig> {
    const resolved = this.checked(config)
    const startedAtMs = this.nowMs()
    const stored = await this.options.store.replace(expectedVersion, resolved)
    this.entry = { ...this.built(stored), loadedAtMs: startedAtMs }
    return stored
  }

  private async load(): Promise<CacheEntry> {
    // The time before the read, so the bound also covers the read's own duration.
    const startedAtMs = this.nowMs()
    let config: RingConfig
    try {
      config = (await this.options.store.load()) ?? (await this.storeInitial())
    } catch (error) {
      throw new RingUnavailableError('the ring config could not be loaded', { cause: error })
    }
    const entry = { ...this.built(config), loadedAtMs: startedAtMs }
    this.entry = entry
    return entry
  }

  private async storeInitial(): Promise<RingConfig> {
    try {
      return await this.options.store.replace('absent', this.checked(this.options.initialConfig))
    } catch (error) {
      // Another handler stored the first config at the same time: use theirs.
      if (!(error instanceof RingVersionMismatchError)) throw error
      const stored = await this.options.store.load()
      if (!stored) throw error
      return stored
    }
  }

  private built(config: RingConfig): CurrentRing {
    const json = JSON.stringify(config)
    if (this.lastBuilt?.json === json) return this.lastBuilt.ring
    const ring = this.buildRouters(config)
    this.lastBuilt = { json, ring }
    return ring
  }

  private buildRouters(config: RingConfig): CurrentRing {
    const migration = config.migration
    const router = (c: RingConfig) =>
      this.options.routerFactory({ ...layoutOf(c), version: c.version })
    // Until every gate is raised, handlers keep routing by the old ring and its version.
    if (migration?.phase === 'gating') {
      return { config, router: router(migration.from), routeVersion: migration.from.version }
    }
    const current: CurrentRing = { config, router: router(config), routeVersion: config.version }
    if (migration) current.previous = router(migration.from)
    return current
  }

  /** Resolves and validates a layout as a stored config must be (InvalidRingConfigError). */
  check(input: RingLayout): RingLayout {
    return this.checked(input)
  }

  private checked(input: RingLayout): RingLayout {
    try {
      const config = this.options.resolve ? this.options.resolve(input) : input
      this.options.validate?.(config)
      // Building a router also checks the config the way the ring itself does.
      this.options.routerFactory({ ...config, version: 0 })
      return config
    } catch (error) {
      if (error instanceof InvalidRingConfigError) throw error
      throw new InvalidRingConfigError(String((error as Error).message), { cause: error })
    }
  }
}
