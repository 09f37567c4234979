import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  hash64,
  hash64Hex,
  keyPosition,
  murmur3Bytes,
  positionCount,
  positionOf,
  seedHigh,
  seedLow,
} from './hash.ts'
import { vnodePosition, vnodeSeedOf } from './vnode.ts'

const encoder = new TextEncoder()

/** Any UTF-16 string, lone surrogates included. */
const codeUnitsArbitrary = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 0x7f }),
      fc.integer({ min: 0x80, max: 0xffff }),
      fc.integer({ min: 0xd800, max: 0xdfff }),
    ),
    { maxLength: 24 },
  )
  .map((units) => String.fromCharCode(...units))

describe('murmur3Bytes', () => {
  it('reproduces published MurmurHash3_x86_32 values', () => {
    const cases: [string, number, number][] = [
      ['', 0, 0],
      ['', 1, 0x514e28b7],
      ['', 0xffffffff, 0x81f16f39],
      ['test', 0, 0xba6bd213],
      ['Hello, world!', 0, 0xc0363e43],
      ['Hello, world!', 1234, 0xfaf6cdb3],
      ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
    ]
    for (const [input, seed, expected] of cases) {
      expect(murmur3Bytes(encoder.encode(input), seed), input).toBe(expected)
    }
  })
})

describe('hash64', () => {
  it('is the two seeded MurmurHash3_x86_32 digests of the UTF-8 bytes', () => {
    fc.assert(
      fc.property(codeUnitsArbitrary, (input) => {
        const bytes = encoder.encode(input)
        expect(hash64(input)).toEqual({
          high: murmur3Bytes(bytes, seedHigh),
          low: murmur3Bytes(bytes, seedLow),
        })
      }),
      { numRuns: 2000 },
    )
  })

  it('encodes a lone surrogate as U+FFFD, like TextEncoder', () => {
    expect(hash64('a\ud800b')).toEqual(hash64('a\ufffdb'))
    expect(hash64('\udc00')).toEqual(hash64('\ufffd'))
    expect(hash64('😀')).not.toEqual(hash64('\ufffd\ufffd'))
  })

  it('handles non-ASCII characters at every offset of a block', () => {
    for (let prefix = 0; prefix < 9; prefix++) {
      for (const character of ['é', '€', '😀', '\ud800']) {
        const input = `${'x'.repeat(prefix)}${character}yz`
        const bytes = encoder.encode(input)
        expect(hash64(input).high, input).toBe(murmur3Bytes(bytes, seedHigh))
      }
    }
  })

  it('prints as 16 hex digits, high half first', () => {
    const { high, low } = hash64('user:123456')
    expect(hash64Hex('user:123456')).toBe(
      high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0'),
    )
    expect(hash64Hex('user:123456')).toMatch(/^[0-9a-f]{16}$/)
  })
})

describe('keyPosition', () => {
  it('is the top 53 bits of hash64, a safe integer', () => {
    fc.assert(
      fc.property(codeUnitsArbitrary, (input) => {
        const { high, low } = hash64(input)
        const position = keyPosition(input)
        expect(Number.isSafeInteger(position)).toBe(true)
        expect(position).toBeGreaterThanOrEqual(0)
        expect(position).toBeLessThan(positionCount)
        expect(BigInt(position)).toBe(((BigInt(high) << 32n) | BigInt(low)) >> 11n)
      }),
    )
  })
})

describe('vnode positions', () => {
  it('are hash64 of the 12 bytes u32le(idHigh) ‖ u32le(idLow) ‖ u32le(index)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.nat({ max: 70_000 }), (id, index) => {
        const { high, low } = hash64(id)
        const message = new Uint8Array(12)
        const view = new DataView(message.buffer)
        view.setUint32(0, high, true)
        view.setUint32(4, low, true)
        view.setUint32(8, index, true)
        const expected = positionOf(murmur3Bytes(message, seedHigh), murmur3Bytes(message, seedLow))
        expect(vnodePosition(vnodeSeedOf(id), index)).toBe(expected)
      }),
    )
  })
})
