// The fence checkers must turn red on the histories they exist to catch: each test feeds
// one known-bad history (and its sound twin, which must pass) and expects the violation.
import { describe, expect, it } from 'vitest'
import { checkFencedHistory, checkGrantsIncrease, checkHistoryAgainstGrants } from './fence-checker'

const granted = new Map([
  [1, 'alice'],
  [2, 'bob'],
  [3, 'carol'],
])

describe('checkFencedHistory', () => {
  it('accepts writes in fence order, each by its grantee', () => {
    const sound = [
      { owner: 'alice', fence: 1 },
      { owner: 'alice', fence: 1 },
      { owner: 'bob', fence: 2 },
      { owner: 'carol', fence: 3 },
    ]
    expect(checkFencedHistory(sound, granted)).toEqual([])
  })

  it('reports a stale write accepted after a higher fence', () => {
    const history = [
      { owner: 'alice', fence: 1 },
      { owner: 'carol', fence: 3 },
      { owner: 'bob', fence: 2 },
    ]
    expect(checkFencedHistory(history, granted)).toContain(
      'write 2: stale fence 2 accepted after 3',
    )
  })

  it('reports a section resumed after a takeover', () => {
    // Fence 1's holder writes again after fence 2 wrote: without a stale write in between
    // it would only show as the resumed section (here it is both).
    const history = [
      { owner: 'alice', fence: 1 },
      { owner: 'bob', fence: 2 },
      { owner: 'alice', fence: 1 },
    ]
    expect(checkFencedHistory(history, granted)).toEqual([
      'write 2: stale fence 1 accepted after 2',
      'write 2: section of fence 1 resumed after another section',
    ])
  })

  it('reports a write by someone the fence was not granted to', () => {
    const history = [
      { owner: 'alice', fence: 1 },
      { owner: 'mallory', fence: 2 },
    ]
    expect(checkFencedHistory(history, granted)).toEqual([
      'write 1: fence 2 granted to bob, written by mallory',
    ])
  })

  it('reports one fence used by two owners, even without a grant log', () => {
    const history = [
      { owner: 'alice', fence: 1 },
      { owner: 'bob', fence: 1 },
    ]
    expect(checkFencedHistory(history)).toEqual(['write 1: fence 1 used by alice and bob'])
  })
})

describe('checkGrantsIncrease', () => {
  it('accepts strictly increasing fences, gaps included', () => {
    expect(checkGrantsIncrease([1, 2, 5, 6])).toEqual([])
  })

  it('reports a fence granted twice and a fence going backwards', () => {
    expect(checkGrantsIncrease([1, 2, 2, 1])).toEqual([
      'grant 2: fence 2 after 2',
      'grant 3: fence 1 after 2',
    ])
  })
})

describe('checkHistoryAgainstGrants', () => {
  const grants = [
    { owner: 'alice', fence: 1 },
    { owner: 'bob', fence: 2 },
  ]
  const write = (fields: Partial<Parameters<typeof checkHistoryAgainstGrants>[0][number]>) => ({
    owner: 'alice',
    fence: 1,
    accepted: true,
    grantsBefore: 1,
    holderTold: false,
    ...fields,
  })

  it('accepts a deposed holder that was told, and its write being rejected', () => {
    const history = [
      write({}),
      write({ owner: 'bob', fence: 2, grantsBefore: 2 }),
      write({ grantsBefore: 2, holderTold: true, accepted: false }),
    ]
    expect(checkHistoryAgainstGrants(history, grants)).toEqual([])
  })

  it('reports a holder deposed before it was told', () => {
    expect(
      checkHistoryAgainstGrants([write({ grantsBefore: 2, accepted: false })], grants),
    ).toEqual([
      'write 0: alice wrote with fence 1 after fence 2 was granted, never told it lost the lock',
    ])
  })

  it('reports a write with a fence not yet granted, or granted to someone else', () => {
    expect(
      checkHistoryAgainstGrants(
        [write({ owner: 'bob', fence: 2, grantsBefore: 1 }), write({ owner: 'mallory' })],
        grants,
      ),
    ).toEqual([
      'write 0: fence 2 by bob was not granted to it before the write',
      'write 1: fence 1 by mallory was not granted to it before the write',
    ])
  })

  it('reports the latest grantee turned away', () => {
    expect(checkHistoryAgainstGrants([write({ accepted: false })], grants)).toEqual([
      'write 0: fence 1 rejected while it was the latest grant',
    ])
  })
})
