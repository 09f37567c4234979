import { describe, expect, it } from 'vitest'
import { pathParameter } from './index'

describe('pathParameter', () => {
  it('encodes a key whole, so URL parsing keeps its dot segments and slashes', () => {
    const encoded = pathParameter('a/../b/ü ?#%')
    expect(encoded).toBe('a%2F..%2Fb%2F%C3%BC%20%3F%23%25')
    expect(new URL(`http://x/kv/${encoded}`).pathname).toBe(`/kv/${encoded}`)
  })

  it('refuses . and .., which no URL path can carry', () => {
    expect(() => pathParameter('.')).toThrow(RangeError)
    expect(() => pathParameter('..')).toThrow(RangeError)
  })
})
