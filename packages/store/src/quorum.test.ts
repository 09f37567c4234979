import { describe, expect, it } from 'vitest'
import { awaitQuorum } from './quorum'

const never = new Promise<number>(() => {})

describe('awaitQuorum', () => {
  it('answers as soon as enough calls succeed, without waiting for the rest', async () => {
    const outcome = await awaitQuorum([Promise.resolve(1), never, Promise.resolve(3)], 2)
    expect(outcome.reached).toBe(true)
    expect(outcome.successes.sort()).toEqual([1, 3])
  })

  it('fails as soon as the quorum can no longer be reached', async () => {
    const outcome = await awaitQuorum(
      [Promise.reject(new Error('a')), never, Promise.reject(new Error('b'))],
      2,
    )
    expect(outcome.reached).toBe(false)
    expect(outcome.failures).toHaveLength(2)
  })

  it('refuses a quorum larger than the number of calls', () => {
    expect(() => awaitQuorum([Promise.resolve(1)], 2)).toThrow(RangeError)
  })
})
