// A handler's copy of the ring: the stored config and the router built from it, reloaded
// once it is `stalenessMs` old. Within that bound a handler may route by a config that was
// replaced up to `stalenessMs` ago (plus the length of the request using it).
//
// What a stale ring means for correctness: routing decides which region's table a key lives
// in, and each table enforces versions, fences and intents only for the items it holds. While
// two handlers route one key differently (one with the old ring, one with the new), they
// read and write two different items, so compare-and-swap, fencing and intents are enforced
// separately on each: the per-key guarantees hold again `stalenessMs` (plus the longest
// request) after a ring change. Changing the ring also moves keys without moving their data:
// a moved key is not found in its new owner until it is migrated, which Meridian does not do
// yet (see the README). Ring changes are therefore meant for deployments whose moved keys
// are empty or migrated by the operator; GET /ring/owners/:key tells where a key lives.
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

export const defaultRingStalenessMs = 5_000

export interface CurrentRing {
  config: RingConfig
  router: KeyRouter
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
    return { config, router: this.options.routerFactory(config) }
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
