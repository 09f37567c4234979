// The fence checkers must turn red on the histories they exist to catch: each test feeds
// one known-bad history (and its sound twin, which must pass) and expects the violation.
import { describe, expect, it } from 'vitest'
import { checkFencedHistory, checkGrantsIncrease } from './fence-checker'

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
