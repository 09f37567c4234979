import { describe, expect, it } from 'vitest'
import vectors from './golden-vectors.json' with { type: 'json' }
import { hash64Hex, keyPosition, Ring, seedHigh, seedLow } from './index.ts'
import { blockBits, probeAddends, probeMultipliers } from './ring-table.ts'
import { vnodePosition, vnodeSeedOf } from './vnode.ts'

const encoder = new TextEncoder()

function utf8Hex(text: string): string {
  return [...encoder.encode(text)].map((byte) => byte.toString(16).padStart(2, '0')).join('')
}

describe('golden vectors', () => {
  it('pins the hash constants', () => {
    expect(vectors.seedHigh).toBe(`0x${seedHigh.toString(16)}`)
    expect(vectors.seedLow).toBe(`0x${seedLow.toString(16)}`)
    expect(vectors.blockBits).toBe(blockBits)
    expect(vectors.probeMultipliers).toEqual(probeMultipliers)
    expect(vectors.probeAddends).toEqual(probeAddends)
  })

  it('reproduces every string hash and position', () => {
    expect(vectors.hashes.length).toBeGreaterThan(20)
    for (const vector of vectors.hashes) {
      const input = vector.input ?? String.fromCharCode(...(vector.inputUtf16 ?? []))
      expect(utf8Hex(input), JSON.stringify(input)).toBe(vector.utf8)
      expect(hash64Hex(input), JSON.stringify(input)).toBe(vector.hash64)
      expect(keyPosition(input), JSON.stringify(input)).toBe(vector.position)
    }
    expect(vectors.hashes.filter((vector) => 'inputUtf16' in vector).length).toBeGreaterThan(2)
  })

  it('reproduces vnode positions', () => {
    for (const vnode of vectors.vnodes) {
      expect(hash64Hex(vnode.id)).toBe(vnode.idHash64)
      for (const { index, position } of vnode.positions) {
        expect(vnodePosition(vnodeSeedOf(vnode.id), index), `${vnode.id}#${index}`).toBe(position)
      }
    }
  })

  it('reproduces owners and preference lists for fixed rings', () => {
    for (const ringVectors of vectors.rings) {
      const ring = new Ring(ringVectors.config)
      expect(ring.toConfig()).toEqual(ringVectors.config)
      for (const lookup of ringVectors.lookups) {
        expect(keyPosition(lookup.key)).toBe(lookup.position)
        expect(ring.lookup(lookup.key).id, lookup.key).toBe(lookup.owner)
        expect(
          ring.preferenceList(lookup.key, 3).map((node) => node.id),
          lookup.key,
        ).toEqual(lookup.preferenceList)
      }
    }
  })
})
