import { describe, expect, it } from 'vitest'
import { outcomeMetric } from './observability'

describe('outcomeMetric', () => {
  it('names lock, transaction and job outcomes, and nothing else', () => {
    expect(outcomeMetric('POST', '/locks/orders/acquire', 200)).toBe('LockAcquired')
    expect(outcomeMetric('POST', '/locks/orders/acquire', 409)).toBe('LockContention')
    expect(outcomeMetric('POST', '/locks/orders/release', 200)).toBeUndefined()
    expect(outcomeMetric('POST', '/txn', 200)).toBe('TransactionCommitted')
    expect(outcomeMetric('POST', '/txn', 409)).toBe('TransactionAborted')
    expect(outcomeMetric('POST', '/txn', 400)).toBeUndefined()
    expect(outcomeMetric('POST', '/jobs', 201)).toBe('JobSubmitted')
    expect(outcomeMetric('GET', '/jobs', 200)).toBeUndefined()
  })
})
