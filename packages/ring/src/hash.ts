/**
 * The ring's one string hash, fixed forever so every instance, in any language, routes a key
 * to the same node.
 *
 * hash64(s) is two standard MurmurHash3_x86_32 digests of the UTF-8 bytes of `s`:
 *   high = MurmurHash3_x86_32(utf8(s), seed 0x6d657269)   ('meri' in ASCII)
 *   low  = MurmurHash3_x86_32(utf8(s), seed 0x6469616e)   ('dian' in ASCII)
 * MurmurHash3_x86_32 reads the bytes as little-endian 32-bit blocks, as in Austin Appleby's
 * reference code, so any MurmurHash3 library that accepts bytes and a seed reproduces both
 * halves. The two digests share their block mixing (it does not depend on the seed), so one
 * pass over the string computes both for little more than the cost of one.
 *
 * Strings are encoded as UTF-8 the way WHATWG TextEncoder does it: a surrogate pair becomes
 * one 4-byte sequence, and a lone surrogate becomes U+FFFD (bytes EF BF BD). Keys with lone
 * surrogates are therefore hashed, never rejected, but two such keys can collide by design.
 *
 * A key's ring position is the top 53 bits of the 64-bit value, high * 2^21 + (low >>> 11):
 * an exact, non-negative JavaScript safe integer, so positions survive JSON unchanged.
 *
 * Encoding is done inline, without TextEncoder: for a 12-character key, TextEncoder.encode took
 * ~1.2 µs here (it allocates) and encodeInto a reused buffer ~80 ns, while this loop hashes the
 * key in ~25-30 ns, most of it reading the characters. Pure ASCII takes a four-characters-at-a-time
 * path; the first non-ASCII character switches to a byte-at-a-time encoder that carries on from
 * the same state.
 *
 * This is not a cryptographic hash: anyone who can choose keys can aim them at one node.
 */

// The hot code below only reads constants this module does not export: V8 compiles a module's
// own constants into the machine code, but reads exported ones from their export cells, and
// with the multipliers above 2^31 (doubles in a cell) hashing measured ~70% slower.
const highSeed = 0x6d657269
const lowSeed = 0x6469616e
const blockMultiplier1 = 0xcc9e2d51
const blockMultiplier2 = 0x1b873593
const stateAddend = 0xe6546b64
const finalMultiplier1 = 0x85ebca6b
const finalMultiplier2 = 0xc2b2ae35
const lowBitsDropped = 11
const highScale = 2 ** (32 - lowBitsDropped)

/** The seed of the high 32 bits ('meri'). */
export const seedHigh = highSeed
/** The seed of the low 32 bits ('dian'). */
export const seedLow = lowSeed
/** Ring positions are integers in [0, positionCount). */
export const positionCount = 2 ** 53

export interface Hash64 {
  /** The high 32 bits, an unsigned integer. */
  readonly high: number
  /** The low 32 bits, an unsigned integer. */
  readonly low: number
}

/**
 * The last digest, as signed 32-bit words [high, low] (read them with `>>> 0`). Lookups read it
 * from here rather than from a returned object or number: values of 2^30 and above would be
 * boxed on the heap when returned from a function V8 did not inline, and in a typed array
 * they never are; the boxing measured ~30-50 ns per lookup.
 */
const lastDigest = new Int32Array(2)
export const digestWords = lastDigest

/** MurmurHash3_x86_32's mixing of one 4-byte block, before it meets the state. */
export function mixBlock(block: number): number {
  let mixed = Math.imul(block, blockMultiplier1)
  mixed = (mixed << 15) | (mixed >>> 17)
  return Math.imul(mixed, blockMultiplier2)
}

/** MurmurHash3_x86_32's state update with one mixed block. */
export function stepState(state: number, mixedBlock: number): number {
  let next = state ^ mixedBlock
  next = (next << 13) | (next >>> 19)
  return (Math.imul(next, 5) + stateAddend) | 0
}

/** MurmurHash3's fmix32 after mixing in the length; returns the digest as a signed int32. */
export function finalize(state: number, byteCount: number): number {
  let mixed = state ^ byteCount
  mixed ^= mixed >>> 16
  mixed = Math.imul(mixed, finalMultiplier1)
  mixed ^= mixed >>> 13
  mixed = Math.imul(mixed, finalMultiplier2)
  return mixed ^ (mixed >>> 16)
}

/**
 * Hashes `key` into digestWords. The ASCII fast path consumes whole 4-character
 * blocks; at the first block or tail holding a non-ASCII character it hands over to
 * digestFrom, which continues byte by byte from the same state and offset.
 */
export function digest(key: string): void {
  // The block and state steps are written out rather than calling mixBlock/stepState/finalize:
  // when V8 inlines this function into a caller it can run out of inlining budget for the
  // helpers, and a helper returning an int32 outside the small-integer range boxes it on the
  // heap, which cost ~30 ns per lookup.
  const length = key.length
  let high = highSeed
  let low = lowSeed
  let index = 0
  for (; index + 4 <= length; index += 4) {
    const c0 = key.charCodeAt(index)
    const c1 = key.charCodeAt(index + 1)
    const c2 = key.charCodeAt(index + 2)
    const c3 = key.charCodeAt(index + 3)
    if ((c0 | c1 | c2 | c3) > 0x7f) {
      digestFrom(key, index, high, low)
      return
    }
    let mixed = Math.imul(c0 | (c1 << 8) | (c2 << 16) | (c3 << 24), blockMultiplier1)
    mixed = Math.imul((mixed << 15) | (mixed >>> 17), blockMultiplier2)
    high ^= mixed
    high = (Math.imul((high << 13) | (high >>> 19), 5) + stateAddend) | 0
    low ^= mixed
    low = (Math.imul((low << 13) | (low >>> 19), 5) + stateAddend) | 0
  }
  const remaining = length - index
  if (remaining > 0) {
    const c0 = key.charCodeAt(index)
    const c1 = remaining > 1 ? key.charCodeAt(index + 1) : 0
    const c2 = remaining > 2 ? key.charCodeAt(index + 2) : 0
    if ((c0 | c1 | c2) > 0x7f) {
      digestFrom(key, index, high, low)
      return
    }
    let mixed = Math.imul(c0 | (c1 << 8) | (c2 << 16), blockMultiplier1)
    mixed = Math.imul((mixed << 15) | (mixed >>> 17), blockMultiplier2)
    high ^= mixed
    low ^= mixed
  }
  high ^= length
  high ^= high >>> 16
  high = Math.imul(high, finalMultiplier1)
  high ^= high >>> 13
  high = Math.imul(high, finalMultiplier2)
  lastDigest[0] = high ^ (high >>> 16)
  low ^= length
  low ^= low >>> 16
  low = Math.imul(low, finalMultiplier1)
  low ^= low >>> 13
  low = Math.imul(low, finalMultiplier2)
  lastDigest[1] = low ^ (low >>> 16)
}

/**
 * The general path: encodes UTF-16 code units from `start` as UTF-8 and feeds the bytes to
 * both states. Everything before `start` was ASCII and consumed as whole blocks, so the byte
 * count so far equals `start` and no partial block is pending.
 */
function digestFrom(key: string, start: number, stateHigh: number, stateLow: number): void {
  const length = key.length
  let high = stateHigh
  let low = stateLow
  let block = 0
  let blockBytes = 0
  let byteCount = start
  for (let index = start; index < length; index++) {
    let codePoint = key.charCodeAt(index)
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) {
      const next = index + 1 < length ? key.charCodeAt(index + 1) : 0
      if (codePoint <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        codePoint = 0x10000 + ((codePoint - 0xd800) << 10) + (next - 0xdc00)
        index++
      } else {
        codePoint = 0xfffd
      }
    }
    // The UTF-8 bytes of this code point, first byte in the low 8 bits.
    let bytes: number
    let count: number
    if (codePoint < 0x80) {
      bytes = codePoint
      count = 1
    } else if (codePoint < 0x800) {
      bytes = 0xc0 | (codePoint >> 6) | ((0x80 | (codePoint & 0x3f)) << 8)
      count = 2
    } else if (codePoint < 0x10000) {
      bytes =
        0xe0 |
        (codePoint >> 12) |
        ((0x80 | ((codePoint >> 6) & 0x3f)) << 8) |
        ((0x80 | (codePoint & 0x3f)) << 16)
      count = 3
    } else {
      bytes =
        0xf0 |
        (codePoint >> 18) |
        ((0x80 | ((codePoint >> 12) & 0x3f)) << 8) |
        ((0x80 | ((codePoint >> 6) & 0x3f)) << 16) |
        ((0x80 | (codePoint & 0x3f)) << 24)
      count = 4
    }
    for (let byteIndex = 0; byteIndex < count; byteIndex++) {
      block |= ((bytes >>> (byteIndex * 8)) & 0xff) << (blockBytes * 8)
      blockBytes++
      if (blockBytes === 4) {
        const mixed = mixBlock(block)
        high = stepState(high, mixed)
        low = stepState(low, mixed)
        block = 0
        blockBytes = 0
      }
    }
    byteCount += count
  }
  if (blockBytes > 0) {
    const mixed = mixBlock(block)
    high ^= mixed
    low ^= mixed
  }
  lastDigest[0] = finalize(high, byteCount)
  lastDigest[1] = finalize(low, byteCount)
}

/** The 64-bit hash of `key`'s UTF-8 bytes, as two unsigned 32-bit halves. */
export function hash64(key: string): Hash64 {
  digest(key)
  return { high: lastDigest[0]! >>> 0, low: lastDigest[1]! >>> 0 }
}

/** The 64-bit hash as 16 lowercase hex digits, high half first (big-endian). */
export function hash64Hex(key: string): string {
  digest(key)
  const high = (lastDigest[0]! >>> 0).toString(16).padStart(8, '0')
  return high + (lastDigest[1]! >>> 0).toString(16).padStart(8, '0')
}

/** The ring position of `key`: the top 53 bits of hash64(key), an integer in [0, 2^53). */
export function keyPosition(key: string): number {
  digest(key)
  return positionOf(lastDigest[0]!, lastDigest[1]!)
}

/** The ring position of a 64-bit value given as two 32-bit halves (signed or unsigned). */
export function positionOf(high: number, low: number): number {
  return (high >>> 0) * highScale + (low >>> lowBitsDropped)
}

/** MurmurHash3_x86_32 of raw bytes: the reference the fast path is checked against. */
export function murmur3Bytes(bytes: ArrayLike<number>, seed: number): number {
  const length = bytes.length
  let state = seed | 0
  let index = 0
  for (; index + 4 <= length; index += 4) {
    const block =
      bytes[index]! |
      (bytes[index + 1]! << 8) |
      (bytes[index + 2]! << 16) |
      (bytes[index + 3]! << 24)
    state = stepState(state, mixBlock(block))
  }
  let tail = 0
  for (let offset = length - index - 1; offset >= 0; offset--) {
    tail |= bytes[index + offset]! << (offset * 8)
  }
  if (length > index) state ^= mixBlock(tail)
  return finalize(state, length) >>> 0
}
