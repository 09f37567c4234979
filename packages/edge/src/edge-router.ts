// Where the edge sends a request: the routing both edge shapes share, the Hono app
// (edge-app.ts, the local runtime's edge, which forwards the request itself) and the
// CloudFront origin-request trigger (functions/edge.ts, which only rewrites the origin).
//
// `/kv/:key` goes to the region that owns `${tenant}#${key}` under the ring; anything else,
// and a key whose tenant or ring is not known, goes to the home region, which answers
// correctly for every key. The tenant belongs to the API key: the router remembers it by
// key id (the public part of `mrd_<id>_<secret>`), from an answer (`learnTenant`), from a
// ring load made with that key (EdgeRing's `onTenant`), or, with `learnUnknownTenants`, by
// loading the ring with an unknown key before routing its request (the origin-request
// trigger sees no answers). A key id whose ring load failed (a forged or revoked key, a key
// without kv:read) is not tried again for the staleness bound, so a flood of made-up keys
// costs the home API at most one GET /ring per id per bound per edge instance.
import { EdgeRing } from './edge-ring'

export interface EdgeRouterOptions {
  homeRegion: string
  /** The home region's API base URL (the ring is loaded from it). */
  homeUrl: string
  /** The regions with an API the edge may route to (the home region's among them). */
  regions: readonly string[]
  /** How long a ring config is used before it is reloaded (default 5 s). */
  ringStalenessMs?: number
  /** Key ids whose tenant is remembered (default 10,000, oldest forgotten first). */
  tenantsMax?: number
  /** Load the ring with an unknown key id to learn its tenant before routing (default off). */
  learnUnknownTenants?: boolean
  fetch?: typeof fetch
  nowMs?: () => number
}

export interface EdgeRoute {
  /** The owner region of the key; undefined sends the request to the home region. */
  region?: string
  /** The ring version the route was chosen by (sent on as `meridian-ring-version`). */
  ringVersion?: number
}

const keyIdPattern = /^Bearer mrd_([0-9a-f]{16})_/

/** The key id of a `Bearer mrd_<id>_<secret>` header, or undefined. */
export function keyIdOf(authorization: string | undefined): string | undefined {
  return authorization ? keyIdPattern.exec(authorization)?.[1] : undefined
}

/** The decoded key of a `/kv/<key>` path (one segment, as the edge routes it), or undefined. */
export function kvKeyOf(path: string): string | undefined {
  const raw = /^\/kv\/([^/]+)$/.exec(path)?.[1]
  if (raw === undefined) return undefined
  try {
    return decodeURIComponent(raw)
  } catch {
    return undefined
  }
}

export class EdgeRouter {
  readonly ring: EdgeRing
  private readonly tenants: BoundedMap<string, string>
  private readonly failedLearning: BoundedMap<string, number>
  private readonly learning = new Map<string, Promise<string | undefined>>()
  private readonly stalenessMs: number
  private readonly nowMs: () => number

  constructor(private readonly options: EdgeRouterOptions) {
    this.stalenessMs = options.ringStalenessMs ?? 5_000
    this.nowMs = options.nowMs ?? Date.now
    const tenantsMax = options.tenantsMax ?? 10_000
    this.tenants = new BoundedMap(tenantsMax)
    this.failedLearning = new BoundedMap(tenantsMax)
    this.ring = new EdgeRing({
      homeUrl: options.homeUrl,
      stalenessMs: this.stalenessMs,
      ...(options.fetch && { fetch: options.fetch }),
      nowMs: this.nowMs,
      onTenant: (authorization, tenant) => this.learnTenant(authorization, tenant),
    })
  }

  async route(path: string, authorization: string | undefined): Promise<EdgeRoute> {
    const unrouted = { ringVersion: this.ring.version }
    const key = kvKeyOf(path)
    const keyId = keyIdOf(authorization)
    if (key === undefined || !authorization || !keyId) return unrouted
    let tenant = this.tenants.get(keyId)
    if (!tenant && this.options.learnUnknownTenants) tenant = await this.learn(keyId, authorization)
    if (!tenant) return unrouted
    const loaded = await this.ring.current(authorization)
    if (!loaded) return unrouted
    const owner = loaded.ring.preferenceList(`${tenant}#${key}`, 1)[0]?.region
    if (!owner || !this.options.regions.includes(owner)) return { ringVersion: loaded.version }
    return { region: owner, ringVersion: loaded.version }
  }

  /** An authenticated answer named the tenant of this key. */
  learnTenant(authorization: string, tenant: string): void {
    const keyId = keyIdOf(authorization)
    if (!keyId) return
    this.tenants.set(keyId, tenant)
    this.failedLearning.delete(keyId)
  }

  /** An API routed by `version`: a newer one than ours makes the next request reload. */
  observe(version: number): void {
    this.ring.observe(version)
  }

  private learn(keyId: string, authorization: string): Promise<string | undefined> {
    const failedAtMs = this.failedLearning.get(keyId)
    if (failedAtMs !== undefined && this.nowMs() - failedAtMs < this.stalenessMs) {
      return Promise.resolve(undefined)
    }
    let learning = this.learning.get(keyId)
    if (!learning) {
      learning = this.ring
        .learn(authorization)
        .then((tenant) => {
          if (!tenant) this.failedLearning.set(keyId, this.nowMs())
          return tenant
        })
        .finally(() => this.learning.delete(keyId))
      this.learning.set(keyId, learning)
    }
    return learning
  }
}

/** A Map that forgets its oldest entries beyond `max` (insertion order, refreshed on set). */
class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>()
  constructor(private readonly max: number) {}

  get(key: K): V | undefined {
    return this.entries.get(key)
  }

  set(key: K, value: V): void {
    this.entries.delete(key)
    this.entries.set(key, value)
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as K)
  }

  delete(key: K): void {
    this.entries.delete(key)
  }
}
