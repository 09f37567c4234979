import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidKeyError, ValueTooLargeError } from './errors'
import {
  assertValidContentType,
  assertValidKey,
  assertValidValue,
  hasLoneSurrogate,
  keyLengthMaxBytes,
  utf8ByteLength,
  valueSizeMaxBytes,
} from './limits'

// The reference: a high surrogate not followed by a low one, or a low one not preceded by a high.
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

const reasonOf = (key: string) => {
  try {
    assertValidKey(key)
    return 'valid'
  } catch (error) {
    return (error as InvalidKeyError).reason
  }
}

describe('key and value limits', () => {
  it('counts UTF-8 bytes exactly as TextEncoder does for well-formed strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(utf8ByteLength(text)).toBe(new TextEncoder().encode(text).byteLength)
      }),
    )
  })

  it('finds lone surrogates exactly where the string is not well-formed', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(hasLoneSurrogate(text)).toBe(loneSurrogate.test(text))
      }),
    )
    expect(hasLoneSurrogate('a\ud800')).toBe(true)
    expect(hasLoneSurrogate('\udc00b')).toBe(true)
    expect(hasLoneSurrogate('😀')).toBe(false)
  })

  it('accepts keys of 1 to 1024 bytes and names the reason for any other', () => {
    expect(reasonOf('')).toBe('empty')
    expect(reasonOf('k'.repeat(keyLengthMaxBytes))).toBe('valid')
    expect(reasonOf('k'.repeat(keyLengthMaxBytes + 1))).toBe('too-long')
    expect(reasonOf('😀'.repeat(256))).toBe('valid')
    expect(reasonOf(`${'😀'.repeat(256)}k`)).toBe('too-long')
    expect(reasonOf('a\ud800b')).toBe('invalid-utf8')
    expect(() => assertValidKey('')).toThrow(InvalidKeyError)
  })

  it('accepts values up to the limit only', () => {
    expect(() => assertValidValue(new Uint8Array(valueSizeMaxBytes))).not.toThrow()
    expect(() => assertValidValue(new Uint8Array(valueSizeMaxBytes + 1))).toThrow(
      ValueTooLargeError,
    )
  })

  it('accepts media types and refuses anything else', () => {
    expect(() => assertValidContentType('text/plain; charset=utf-8')).not.toThrow()
    expect(() => assertValidContentType('application/vnd.x+json')).not.toThrow()
    expect(() => assertValidContentType('not a type')).toThrow()
    expect(() => assertValidContentType(`text/${'x'.repeat(300)}`)).toThrow()
  })
})
