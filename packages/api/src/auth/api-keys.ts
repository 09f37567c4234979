// API keys: `mrd_<id>_<secret>`. The id (16 hex characters) finds the stored record; the
// secret (32 random bytes, base64url) is never stored, only its SHA-256. A fast hash is
// right here: the secret has 256 bits of entropy, so there is nothing to brute-force, and
// a slow hash would only add latency to every request. Keys belong to one tenant and carry
// scopes; routes demand a scope.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export const scopes = ['kv:read', 'kv:write', 'lock', 'txn', 'jobs', 'admin'] as const
export type Scope = (typeof scopes)[number]

export interface ApiKeyRecord {
  id: string
  tenant: string
  scopes: Scope[]
  name: string
  secretSha256: string
  createdAtMs: number
  revokedAtMs?: number
}

/** Who is calling, once a key checked out. Never holds the secret. */
export interface Principal {
  keyId: string
  tenant: string
  scopes: ReadonlySet<Scope>
}

const keyPattern = /^mrd_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/

export function generateApiKey(): { id: string; key: string; secretSha256: string } {
  const id = randomBytes(8).toString('hex')
  const secret = randomBytes(32).toString('base64url')
  return { id, key: `mrd_${id}_${secret}`, secretSha256: sha256(secret) }
}

export function parseApiKey(key: string): { id: string; secret: string } | undefined {
  const match = keyPattern.exec(key)
  return match ? { id: match[1]!, secret: match[2]! } : undefined
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** Constant-time comparison of the presented secret with the stored hash. */
export function secretMatches(secret: string, secretSha256: string): boolean {
  const presented = Buffer.from(sha256(secret), 'hex')
  const stored = Buffer.from(secretSha256, 'hex')
  return presented.length === stored.length && timingSafeEqual(presented, stored)
}
