// The edge's copy of the ring: loaded from the home region's `GET /ring` with the caller's
// own key (the edge holds no credentials and reads no table), kept for `stalenessMs`, and
// dropped early when an API answers with a newer ring version. One load at a time is
// shared by every request waiting for it. A load that fails (the caller's key can't read
// the ring, the home region is down) leaves the edge routing by what it has, or, with
// nothing, sending the request to the home region, which answers correctly for every key.
// The home API's answer to GET /ring names the caller's tenant (`meridian-tenant`, set on
// every authenticated answer): each load hands it to `onTenant`, and `learn` loads the ring
// with one caller's key just to hear it (an origin-request trigger never sees an answer, so
// this is the only way it learns a key's tenant).
import { type Ring, ringFromConfig } from '@meridian/ring'

export interface EdgeRingOptions {
  homeUrl: string
  /** How long a loaded ring is used before the next request reloads it (default 5 s). */
  stalenessMs?: number
  fetch?: typeof fetch
  nowMs?: () => number
  /** Told the tenant each successful load's answer names, with the key that loaded it. */
  onTenant?: (authorization: string, tenant: string) => void
}

export interface LoadedRing {
  version: number
  ring: Ring
  loadedAtMs: number
}

export class EdgeRing {
  private loaded: LoadedRing | undefined
  private loading: Promise<LoadedRing | undefined> | undefined
  private readonly stalenessMs: number
  private readonly fetch: typeof fetch
  private readonly nowMs: () => number

  constructor(private readonly options: EdgeRingOptions) {
    this.stalenessMs = options.stalenessMs ?? 5_000
    this.fetch = options.fetch ?? globalThis.fetch
    this.nowMs = options.nowMs ?? Date.now
  }

  /** The ring to route by: the cached one while fresh, else a reload (with this key). */
  async current(authorization: string): Promise<LoadedRing | undefined> {
    const loaded = this.loaded
    if (loaded && this.nowMs() - loaded.loadedAtMs < this.stalenessMs) return loaded
    this.loading ??= this.load(authorization).finally(() => {
      this.loading = undefined
    })
    return (await this.loading) ?? loaded
  }

  /** An API routes by `version`: a newer one than ours makes the next request reload. */
  observe(version: number): void {
    if (this.loaded && version > this.loaded.version)
      this.loaded.loadedAtMs = Number.NEGATIVE_INFINITY
  }

  get version(): number | undefined {
    return this.loaded?.version
  }

  /**
   * Loads the ring with this caller's key (not shared with other callers' loads) and returns
   * the tenant the answer names; undefined when the key can't read the ring.
   */
  async learn(authorization: string): Promise<string | undefined> {
    return (await this.fetchRing(authorization))?.tenant
  }

  private async load(authorization: string): Promise<LoadedRing | undefined> {
    return (await this.fetchRing(authorization))?.loaded
  }

  private async fetchRing(
    authorization: string,
  ): Promise<{ loaded: LoadedRing; tenant: string | undefined } | undefined> {
    try {
      const startedAtMs = this.nowMs()
      const response = await this.fetch(`${this.options.homeUrl}/ring`, {
        headers: { authorization },
      })
      if (!response.ok) {
        await response.body?.cancel()
        return undefined
      }
      const status = (await response.json()) as { version: number; config: unknown }
      const ring = ringFromConfig(status.config)
      // Aged from before the request, so the staleness bound covers the load itself.
      const loaded = { version: status.version, ring, loadedAtMs: startedAtMs }
      if (!this.loaded || loaded.version >= this.loaded.version) this.loaded = loaded
      const tenant = response.headers.get('meridian-tenant') ?? undefined
      if (tenant) this.options.onTenant?.(authorization, tenant)
      return { loaded: this.loaded, tenant }
    } catch {
      return undefined
    }
  }
}
