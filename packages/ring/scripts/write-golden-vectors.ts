// Prints the contents of src/golden-vectors.json: hash and routing results that another
// implementation of the ring must reproduce bit for bit. Run it only when routing is meant to
// change (which moves keys in every deployed ring):
//   npx tsx packages/ring/scripts/write-golden-vectors.ts > packages/ring/src/golden-vectors.json
// It prints rather than writes so that nothing under packages/ring imports a Node built-in.
import {
  hash64Hex,
  keyPosition,
  probeCountMax,
  Ring,
  type RingConfig,
  seedHigh,
  seedLow,
} from '../src/index.ts'
import { blockBits, probeAddends, probeMultipliers } from '../src/ring-table.ts'
import { vnodePosition, vnodeSeedOf } from '../src/vnode.ts'

const hashInputs = [
  '',
  'a',
  'ab',
  'abc',
  'abcd',
  'abcde',
  'user:123456',
  'Hello, world!',
  'The quick brown fox jumps over the lazy dog',
  'é',
  'naïve café',
  '€100',
  '日本語のキー',
  '😀',
  'key-🚀-launch',
  '👩‍👩‍👧',
  '\u0000',
  '\u007f\u0080',
  '\ud800',
  '\udc00',
  'a\udc00\ud800b',
  'x\ud83d',
]

const classicConfig: RingConfig = {
  version: 1,
  nodes: [
    { id: 'alpha', region: 'us-east-1' },
    { id: 'beta', region: 'eu-west-1' },
    { id: 'gamma', region: 'ap-southeast-2' },
  ],
  vnodesPerWeight: 8,
  probeCount: 1,
}

const defaultConfig: RingConfig = {
  version: 7,
  nodes: [
    { id: 'store-use1-a', region: 'us-east-1', zone: 'use1-az1', weight: 2 },
    { id: 'store-use1-b', region: 'us-east-1', zone: 'use1-az2' },
    { id: 'store-euw1-a', region: 'eu-west-1', zone: 'euw1-az1' },
    { id: 'store-euw1-b', region: 'eu-west-1', zone: 'euw1-az2', weight: 0.5 },
    { id: 'store-apse2-a', region: 'ap-southeast-2' },
    { id: 'ノード-東京', region: 'ap-northeast-1', zone: 'apne1-az1', weight: 1.5 },
  ],
}

const lookupKeys = [
  '',
  'user:1',
  'user:123456',
  'order/2026/11/27/0001',
  'é',
  '😀',
  'tenant:acme:session:9f8e7d6c',
  ...Array.from({ length: 25 }, (_, index) => `key-${index * 7919}`),
]

function utf8Hex(text: string): string {
  return [...new TextEncoder().encode(text)]
    .map((byte) => byte.toString(16).padStart(2, '0'))
    .join('')
}

function isWellFormed(text: string): boolean {
  return !/\p{Surrogate}/u.test(text)
}

function codeUnits(text: string): number[] {
  return Array.from({ length: text.length }, (_, index) => text.charCodeAt(index))
}

function routing(config: RingConfig) {
  const ring = new Ring(config)
  return {
    config: ring.toConfig(),
    lookups: lookupKeys.map((key) => ({
      key,
      position: keyPosition(key),
      owner: ring.lookup(key).id,
      preferenceList: ring.preferenceList(key, 3).map((node) => node.id),
    })),
  }
}

const vectors = {
  description:
    'Golden vectors for @meridian/ring. hash64 = MurmurHash3_x86_32(utf8, seedHigh) ‖ ' +
    'MurmurHash3_x86_32(utf8, seedLow); position = top 53 bits of hash64. See hash.ts, ' +
    'vnode.ts and ring-table.ts for the full definition.',
  seedHigh: `0x${seedHigh.toString(16)}`,
  seedLow: `0x${seedLow.toString(16)}`,
  blockBits,
  probeMultipliers: probeMultipliers.slice(0, probeCountMax),
  probeAddends: probeAddends.slice(0, probeCountMax),
  // Strings with lone surrogates are not valid Unicode and many JSON parsers reject them, so
  // those inputs are given as UTF-16 code units instead.
  hashes: hashInputs.map((input) => ({
    ...(isWellFormed(input) ? { input } : { inputUtf16: codeUnits(input) }),
    utf8: utf8Hex(input),
    hash64: hash64Hex(input),
    position: keyPosition(input),
  })),
  vnodes: ['alpha', 'store-use1-a', 'ノード-東京'].map((id) => ({
    id,
    idHash64: hash64Hex(id),
    positions: [0, 1, 2, 255].map((index) => ({
      index,
      position: vnodePosition(vnodeSeedOf(id), index),
    })),
  })),
  rings: [routing(classicConfig), routing(defaultConfig)],
}

console.log(JSON.stringify(vectors, null, 2))
