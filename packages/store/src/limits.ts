// Input limits of the KV store and the checks that enforce them before any I/O.
//
// Why 180 KiB for a value: DynamoDB refuses items over 400 KB (409,600 bytes, attribute
// names and values included). A key's item holds its committed value and, while a
// transaction is prepared on it, the intent's staged value as well, so two values must fit
// in one item with room for the rest: 2 × 184,320 = 368,640 bytes, leaving ~40 KB for the
// storage key (≤ 1 KiB plus the tenant), two content types (≤ 255 bytes each), the version,
// fence, timestamps and the intent's other fields.
import { InvalidContentTypeError, InvalidKeyError, ValueTooLargeError } from './errors'

export const keyLengthMaxBytes = 1024
export const valueSizeMaxBytes = 180 * 1024
export const contentTypeLengthMax = 255
export const defaultContentType = 'application/octet-stream'

/** UTF-8 byte length of a well-formed string, without allocating. */
export function utf8ByteLength(text: string): number {
  let bytes = 0
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4
      index++
    } else bytes += 3
  }
  return bytes
}

/** A key is 1..1024 bytes of well-formed UTF-8 (no lone surrogates). */
export function assertValidKey(key: string): void {
  if (key.length === 0) throw new InvalidKeyError('empty', 'a key has at least one byte')
  if (hasLoneSurrogate(key)) {
    throw new InvalidKeyError('invalid-utf8', 'the key contains a lone surrogate')
  }
  const bytes = utf8ByteLength(key)
  if (bytes > keyLengthMaxBytes) {
    throw new InvalidKeyError('too-long', `${bytes} bytes; at most ${keyLengthMaxBytes}`)
  }
}

// String.prototype.isWellFormed is ES2024, beyond the repo's lib setting; this is the same test.
export function hasLoneSurrogate(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index)
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(index + 1)
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true
      index++
    } else if (code >= 0xdc00 && code <= 0xdfff) return true
  }
  return false
}

export function assertValidValue(value: Uint8Array): void {
  if (value.byteLength > valueSizeMaxBytes) {
    throw new ValueTooLargeError(value.byteLength, valueSizeMaxBytes)
  }
}

// A media type as RFC 9110 defines it (type/subtype, optional parameters), printable ASCII.
const contentTypePattern =
  /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*;[\x20-\x7e]*)?$/

export function assertValidContentType(contentType: string): void {
  if (contentType.length > contentTypeLengthMax || !contentTypePattern.test(contentType)) {
    throw new InvalidContentTypeError(contentType)
  }
}
