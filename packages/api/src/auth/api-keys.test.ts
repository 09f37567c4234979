import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { generateApiKey, parseApiKey, secretMatches, sha256 } from './api-keys'
import { requiredScope } from './required-scope'

describe('API keys', () => {
  it('round-trips a generated key through parsing, and only its own secret matches', () => {
    const { id, key, secretSha256 } = generateApiKey()
    const parsed = parseApiKey(key)
    expect(parsed?.id).toBe(id)
    expect(secretMatches(parsed!.secret, secretSha256)).toBe(true)
    expect(secretMatches(generateApiKey().key.split('_')[2]!, secretSha256)).toBe(false)
    expect(key).not.toContain(secretSha256)
  })

  it('rejects anything that is not exactly a key', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (text) => {
        const parsed = parseApiKey(text)
        if (parsed) expect(text).toBe(`mrd_${parsed.id}_${parsed.secret}`)
      }),
    )
    expect(parseApiKey(`mrd_${'a'.repeat(16)}_${'b'.repeat(42)}`)).toBeUndefined()
    expect(parseApiKey(`mrd_${'g'.repeat(16)}_${'b'.repeat(43)}`)).toBeUndefined()
  })

  it('compares secrets by hash without throwing on garbage', () => {
    expect(secretMatches('x', 'not-hex')).toBe(false)
    expect(secretMatches('x', sha256('x'))).toBe(true)
  })
})

describe('requiredScope', () => {
  it('maps every route family to one scope, reads apart from writes where it matters', () => {
    expect(requiredScope('GET', '/kv/a')).toBe('kv:read')
    expect(requiredScope('PUT', '/kv/a')).toBe('kv:write')
    expect(requiredScope('DELETE', '/kv/a')).toBe('kv:write')
    expect(requiredScope('GET', '/ring')).toBe('kv:read')
    expect(requiredScope('PUT', '/ring')).toBe('admin')
    expect(requiredScope('POST', '/locks/a/acquire')).toBe('lock')
    expect(requiredScope('POST', '/txn')).toBe('txn')
    expect(requiredScope('GET', '/jobs/x/events')).toBe('jobs')
    expect(requiredScope('POST', '/admin/keys')).toBe('admin')
    expect(requiredScope('GET', '/elsewhere')).toBeUndefined() // refused by the middleware
  })
})
