// Turns an Authorization header into a Principal, or a 401. Verified records are cached
// per instance for `cacheTtlMs` (default 10 s) so a warm Lambda doesn't read DynamoDB on
// every request; the price is that a revocation takes up to that long to reach every
// instance. The bootstrap admin key (an SST Secret) is checked without any read.
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

export interface AuthenticatorOptions {
  store: ApiKeyStore
  /** The first admin key, from the `AdminApiKey` SST Secret; acts as tenant `default`. */
  bootstrapAdminKey?: string
  cacheTtlMs?: number
  cacheEntriesMax?: number
  nowMs?: () => number
}

const unauthorized = (detail: string) =>
  new ProblemError({ slug: 'unauthorized', title: 'Unauthorized', status: 401, detail })

export class Authenticator {
  private readonly cache = new Map<string, { record: ApiKeyRecord; fetchedAtMs: number }>()
  private readonly bootstrap?: { id: string; secretSha256: string }

  constructor(private readonly options: AuthenticatorOptions) {
    const parsed = options.bootstrapAdminKey ? parseApiKey(options.bootstrapAdminKey) : undefined
    if (parsed) this.bootstrap = { id: parsed.id, secretSha256: sha256(parsed.secret) }
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
    const record = await this.lookup(parsed.id)
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

  private async lookup(id: string): Promise<ApiKeyRecord | undefined> {
    const now = this.now()
    const cached = this.cache.get(id)
    if (cached && now - cached.fetchedAtMs < (this.options.cacheTtlMs ?? 10_000))
      return cached.record
    const record = await this.options.store.get(id)
    if (record) {
      if (this.cache.size >= (this.options.cacheEntriesMax ?? 10_000)) {
        const oldest = this.cache.keys().next().value
        if (oldest !== undefined) this.cache.delete(oldest)
      }
      this.cache.set(id, { record, fetchedAtMs: now })
    }
    return record
  }

  private now(): number {
    return this.options.nowMs?.() ?? Date.now()
  }
}
