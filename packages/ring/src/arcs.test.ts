import { describe, expect, it } from 'vitest'
import { ownershipArcs } from './arcs.ts'
import { positionCount } from './hash.ts'
import { ownershipShares } from './movement.ts'
import { Ring } from './ring.ts'

const threeRegions = new Ring({
  version: 1,
  nodes: [
    { id: 'use1', region: 'us-east-1', weight: 1 },
    { id: 'euw1', region: 'eu-west-1', weight: 1 },
    { id: 'apse1', region: 'ap-southeast-1', weight: 2 },
  ],
})

describe('ownershipArcs', () => {
  it('covers the hash space once, in order, merging neighbours of one node', () => {
    const arcs = ownershipArcs(threeRegions, 360)
    expect(arcs[0]!.start).toBe(0)
    expect(arcs[arcs.length - 1]!.end).toBe(1)
    for (let index = 1; index < arcs.length; index++) {
      expect(arcs[index]!.start).toBe(arcs[index - 1]!.end)
      expect(arcs[index]!.end).toBeGreaterThan(arcs[index]!.start)
      expect(arcs[index]!.node).not.toBe(arcs[index - 1]!.node)
    }
  })

  it("draws each node's arcs adding up to its exact share of the hash space", () => {
    const drawn = new Map<string, number>()
    for (const arc of ownershipArcs(threeRegions, 360)) {
      drawn.set(arc.node, (drawn.get(arc.node) ?? 0) + arc.end - arc.start)
    }
    for (const [node, share] of ownershipShares(threeRegions)) {
      expect(drawn.get(node)).toBeCloseTo(share, 9)
    }
  })

  it('puts each node where it owns keys: a position owned by one node lies in its arc', () => {
    const segmentCount = 3600
    const arcs = ownershipArcs(threeRegions, segmentCount)
    let checked = 0
    for (let segment = 0; segment < segmentCount; segment += 7) {
      const first = Math.ceil((segment / segmentCount) * positionCount)
      const last = Math.floor(((segment + 1) / segmentCount) * positionCount) - 1
      const owner = threeRegions.nodeAt(first).id
      // Only segments one node owns whole (checked at 16 points) have one answer to compare.
      const probes = Array.from({ length: 16 }, (_, index) =>
        Math.floor(first + ((last - first) * index) / 15),
      )
      if (!probes.every((position) => threeRegions.nodeAt(position).id === owner)) continue
      const middle = (segment + 0.5) / segmentCount
      const arc = arcs.find((candidate) => candidate.start <= middle && middle < candidate.end)
      expect(arc?.node).toBe(owner)
      checked++
    }
    expect(checked).toBeGreaterThan(5)
  })

  it('draws a one-node ring as one full circle', () => {
    const single = new Ring({ version: 1, nodes: [{ id: 'only', region: 'us-east-1', weight: 1 }] })
    expect(ownershipArcs(single, 360)).toEqual([{ start: 0, end: 1, node: 'only' }])
  })

  it('rejects a segment count outside 1..3600', () => {
    expect(() => ownershipArcs(threeRegions, 0)).toThrow(RangeError)
    expect(() => ownershipArcs(threeRegions, 3601)).toThrow(RangeError)
  })
})
