// The failure detector's rules, without a network: what counts as a failure, when a region
// is suspected, that a suspected region is refused without a call, and that a successful
// background probe trusts it again.
import { describe, expect, it } from 'vitest'
import { KeyNotFoundError, RegionUnavailableError, VersionMismatchError } from './errors'
import { detectingStore, FailureDetector, isRegionFailure } from './failure-detector'
import { MemoryRegionalStore } from './memory-regional-store'

const timeout = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })
const throttled = Object.assign(new Error('slow down'), {
  name: 'ThrottlingException',
  $metadata: { httpStatusCode: 400 },
})
const serverError = Object.assign(new Error('boom'), {
  name: 'InternalServerError',
  $metadata: { httpStatusCode: 500 },
})
const badRequest = Object.assign(new Error('bad'), {
  name: 'ValidationException',
  $metadata: { httpStatusCode: 400 },
})

describe('FailureDetector', () => {
  it('counts timeouts, throttling and 5xx as failures, not refusals or our own bad requests', () => {
    expect([timeout, throttled, serverError].map(isRegionFailure)).toEqual([true, true, true])
    expect(isRegionFailure(new VersionMismatchError('k', 1, 2))).toBe(false)
    expect(isRegionFailure(new KeyNotFoundError('k', undefined))).toBe(false)
    expect(isRegionFailure(badRequest)).toBe(false)
  })

  it('suspects after two failures in a row; a success in between resets the count', () => {
    const detector = new FailureDetector()
    detector.failed('r', timeout)
    detector.succeeded('r', 3)
    detector.failed('r', timeout)
    expect(detector.admit('r')).toBe(true)
    detector.failed('r', serverError)
    expect(detector.admit('r')).toBe(false)
    expect(detector.view('r')).toMatchObject({
      state: 'suspected',
      lastError: 'InternalServerError: boom',
      calls: 4,
      failures: 3,
      p50Ms: 3,
    })
  })

  it('refuses calls to a suspected region without making them, and probes it back', async () => {
    const detector = new FailureDetector({ probeIntervalMs: 20 })
    const memory = new MemoryRegionalStore()
    let down = true
    const flaky = new Proxy(memory, {
      get(target, property, receiver) {
        const member = Reflect.get(target, property, receiver)
        if (typeof member !== 'function') return member
        return (...args: unknown[]) => {
          if (down) return Promise.reject(timeout)
          return member.apply(target, args)
        }
      },
    })
    const store = detectingStore('r', flaky, detector)
    await store.get('default#a').catch(() => undefined)
    await store.get('default#a').catch(() => undefined)
    const refused = await store.get('default#a').catch((error) => error)
    expect(refused).toBeInstanceOf(RegionUnavailableError)
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1)
    expect(detector.view('r').calls).toBe(2)
    down = false
    for (let wait = 0; wait < 50 && !detector.admit('r'); wait++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(detector.view('r').state).toBe('trusted')
    expect(await store.get('default#a')).toBeUndefined()
  })
})
