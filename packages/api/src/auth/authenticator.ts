// Turns an Authorization header into a Principal, or a 401. Key records are cached per
// instance (lru-cache): a verified one for `cacheTtlMs` (default 10 s), so a warm Lambda
// doesn't read DynamoDB on every request, at the price that a revocation takes up to that
// long to reach every instance; an unknown id for `unknownKeyCacheTtlMs` (default 5 s), so
// repeating a made-up key costs nothing. Concurrent requests for one uncached id share one
// read. Ids never seen before are what unauthenticated traffic can vary without limit, so
// reads of uncached ids are bounded per instance (`keyLookupsPerSecondMax`, default 100);
// past that a request with an uncached id gets a 503 with Retry-After instead of a read.
// The bootstrap admin key (an SST Secret) is checked without any read.
import { LRUCache } from 'lru-cache'
import { ProblemError } from '../problem'
import type { ApiKeyStore } from './api-key-store'
import {
  type ApiKeyRecord,
  type Principal,
  parseApiKey,
  type Scope,
  scopes,
  secretMatches,
  sha256,
} from './api-keys'
import { TokenBucket } from './token-bucket'

export interface AuthenticatorOptions {
  store: ApiKeyStore
  /** The first admin key, from the `AdminApiKey` SST Secret; acts as tenant `default`. */
  bootstrapAdminKey?: string
  cacheTtlMs?: number
  unknownKeyCacheTtlMs?: number
  cacheEntriesMax?: number
  /** Reads of ids not in the cache, per second per instance. */
  keyLookupsPerSecondMax?: number
  nowMs?: () => number
}

const unauthorized = (detail: string) =>
  new ProblemError({ slug: 'unauthorized', title: 'Unauthorized', status: 401, detail })

export class Authenticator {
  private readonly cache: LRUCache<string, { record?: ApiKeyRecord }>
  private readonly lookups: TokenBucket
  private readonly bootstrap?: { id: string; secretSha256: string }

  constructor(private readonly options: AuthenticatorOptions) {
    const parsed = options.bootstrapAdminKey ? parseApiKey(options.bootstrapAdminKey) : undefined
    if (parsed) this.bootstrap = { id: parsed.id, secretSha256: sha256(parsed.secret) }
    const nowMs = options.nowMs ?? (() => performance.now())
    this.lookups = new TokenBucket(options.keyLookupsPerSecondMax ?? 100, nowMs)
    const unknownTtlMs = options.unknownKeyCacheTtlMs ?? 5_000
    this.cache = new LRUCache({
      max: options.cacheEntriesMax ?? 10_000,
      ttl: options.cacheTtlMs ?? 10_000,
      perf: { now: nowMs },
      // Read the clock on every check (the default caches it for 1 ms on a timer).
      ttlResolution: 0,
      fetchMethod: async (id, _stale, { options: entry }) => {
        if (!this.lookups.tryTake()) throw lookupsExhausted()
        const record = await this.options.store.get(id)
        if (!record) entry.ttl = unknownTtlMs
        return { record }
      },
    })
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1]
    if (!token) throw unauthorized('Send an API key as `Authorization: Bearer <key>`.')
    const parsed = parseApiKey(token)
    if (!parsed) throw unauthorized('The API key is malformed.')
    if (this.bootstrap && parsed.id === this.bootstrap.id) {
      if (!secretMatches(parsed.secret, this.bootstrap.secretSha256))
        throw unauthorized('The API key is not valid.')
      return { keyId: parsed.id, tenant: 'default', scopes: new Set<Scope>(scopes) }
    }
    const record = (await this.cache.fetch(parsed.id))?.record
    if (!record || !secretMatches(parsed.secret, record.secretSha256)) {
      throw unauthorized('The API key is not valid.')
    }
    if (record.revokedAtMs !== undefined) throw unauthorized('The API key was revoked.')
    return { keyId: record.id, tenant: record.tenant, scopes: new Set(record.scopes) }
  }

  /** Drops a key from this instance's cache (after a revocation through this instance). */
  forget(id: string): void {
    this.cache.delete(id)
  }
}

const lookupsExhausted = () =>
  new ProblemError({
    headers: { 'retry-after': '1' },
    slug: 'key-lookups-exhausted',
    title: 'Service Unavailable',
    status: 503,
    detail: 'Too many unknown API keys presented to this instance; retry after a second.',
  })
