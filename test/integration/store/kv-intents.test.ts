import { type IntentOutcome, KeyInTransactionError, KeyNotFoundError } from '@meridian/store'
import { describe, expect, it } from 'vitest'
import { kvService, stageIntent } from './support'

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (value: Uint8Array) => new TextDecoder().decode(value)

function resolvingTo(outcome: IntentOutcome, seen: string[] = []) {
  return {
    resolve: async (_storageKey: string, item: { intent: { transactionId: string } }) => {
      seen.push(item.intent.transactionId)
      return outcome
    },
  }
}

describe('reads and writes meeting a transaction intent', () => {
  it('refuses a write to a key held by an intent with the transaction id', async () => {
    const service = kvService()
    const key = `intent-write-${crypto.randomUUID()}`
    await service.put('default', key, bytes('a'))
    const transactionId = await stageIntent(service, key, 'put')
    const failure = await service.put('default', key, bytes('b')).catch((e) => e)
    expect(failure).toBeInstanceOf(KeyInTransactionError)
    expect(failure).toMatchObject({ transactionId })
  })

  it('returns the committed value when no resolver is configured', async () => {
    const service = kvService()
    const key = `intent-none-${crypto.randomUUID()}`
    await service.put('default', key, bytes('a'))
    await stageIntent(service, key, 'put')
    expect(await service.get('default', key)).toMatchObject({ version: 1 })
    expect(text((await service.get('default', key)).value)).toBe('a')
  })

  it('asks the resolver and returns the staged value of a committed transaction', async () => {
    const seen: string[] = []
    const service = kvService({ resolveIntent: resolvingTo('committed', seen) })
    const key = `intent-committed-${crypto.randomUUID()}`
    await service.put('default', key, bytes('a'))
    const transactionId = await stageIntent(service, key, 'put')
    const item = await service.get('default', key)
    expect(seen).toEqual([transactionId])
    expect(item).toMatchObject({ version: 2, contentType: 'text/plain' })
    expect(text(item.value)).toBe('staged')
  })

  it('returns the committed value for an aborted or pending transaction', async () => {
    for (const outcome of ['aborted', 'pending'] as const) {
      const service = kvService({ resolveIntent: resolvingTo(outcome) })
      const key = `intent-${outcome}-${crypto.randomUUID()}`
      await service.put('default', key, bytes('a'))
      await stageIntent(service, key, 'put')
      expect(text((await service.get('default', key)).value)).toBe('a')
    }
  })

  it('reads a committed delete intent as absent', async () => {
    const service = kvService({ resolveIntent: resolvingTo('committed') })
    const key = `intent-delete-${crypto.randomUUID()}`
    await service.put('default', key, bytes('a'))
    await stageIntent(service, key, 'delete')
    const failure = await service.get('default', key).catch((e) => e)
    expect(failure).toBeInstanceOf(KeyNotFoundError)
    expect(failure).toMatchObject({ version: 2 })
  })
})
