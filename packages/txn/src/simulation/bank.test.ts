// The bank checker is only worth its green if it turns red: each test starts from a sound
// bank (one committed transfer, checked clean), breaks one invariant by writing the store
// behind the protocol's back, and expects the checker to name that violation.
import { beforeEach, describe, expect, it } from 'vitest'
import {
  type CoordinatorOptions,
  defaultCoordinatorOptions,
  type TransactionPorts,
} from '../coordinator'
import { hashModuloRouter } from '../key-router'
import { FakeClock } from '../memory/fake-clock'
import { MemoryParticipant } from '../memory/memory-participant'
import { MemoryTransactionLog } from '../memory/memory-transaction-log'
import {
  type Bank,
  checkBank,
  openAccounts,
  recoverAll,
  runTransfer,
  type TransferResult,
} from './bank'

const encoder = new TextEncoder()
const bank: Bank = { tenant: 'check', accounts: ['a', 'b', 'c'], initialBalance: 10 }
const options: CoordinatorOptions = { ...defaultCoordinatorOptions, owner: 'tester' }
const transfer = { id: 't1', from: 'a', to: 'b', amount: 4, protocol: '2pc' as const }

let participant: MemoryParticipant
let ports: TransactionPorts
let results: TransferResult[]

/** Where a bank key lives, and its item, for tampering. */
async function itemOf(key: string) {
  const storageKey = `${bank.tenant}#${key}`
  const region = await ports.router.regionOf(storageKey)
  const item = await participant.read(region, storageKey)
  return { region, storageKey, item: item! }
}

async function overwrite(key: string, change: { value?: string; version?: number }) {
  const { region, storageKey, item } = await itemOf(key)
  participant.seed(region, storageKey, {
    ...item,
    ...(change.value !== undefined && { value: encoder.encode(change.value) }),
    ...(change.version !== undefined && { version: change.version }),
  })
}

beforeEach(async () => {
  participant = new MemoryParticipant()
  const clock = new FakeClock()
  ports = {
    log: new MemoryTransactionLog(),
    participant,
    clock,
    router: hashModuloRouter(['r1', 'r2']),
  }
  await openAccounts(ports, bank, options)
  results = [await runTransfer(ports, bank, transfer, options)]
  expect(results[0]).toMatchObject({ status: 'reported', outcome: { state: 'COMMITTED' } })
  // The sweeper clears the record's deferred attention once the late-write grace is over.
  await recoverAll(ports, bank, options, () => clock.advance(60_000))
  expect(await checkBank(ports, bank, results)).toEqual([])
})

describe('checkBank', () => {
  it('reports a total that is not conserved', async () => {
    await overwrite('c', { value: '11' })
    const violations = await checkBank(ports, bank, results)
    expect(violations).toContain('total 31 not conserved')
    expect(violations).toContain('c holds 11, committed transfers say 10')
  })

  it('reports a transfer applied twice on its legs, though the total is conserved', async () => {
    await overwrite('a', { value: '2' })
    await overwrite('b', { value: '18' })
    expect(await checkBank(ports, bank, results)).toEqual([
      'a holds 2, committed transfers say 6',
      'b holds 18, committed transfers say 14',
    ])
  })

  it('reports a ledger entry written twice', async () => {
    await overwrite('ledger/t1', { version: 2 })
    expect(await checkBank(ports, bank, results)).toEqual(['ledger of t1 written 2 times'])
  })

  it('reports a negative balance', async () => {
    await overwrite('a', { value: '-1' })
    await overwrite('b', { value: '21' })
    expect(await checkBank(ports, bank, results)).toContain('negative balance on a: -1')
  })

  it('reports a committed transfer whose ledger entry is missing', async () => {
    const { region, storageKey, item } = await itemOf('ledger/t1')
    participant.seed(region, storageKey, { ...item, deleted: true, value: undefined })
    expect(await checkBank(ports, bank, results)).toEqual([
      'transfer t1 is COMMITTED but its ledger entry is missing',
    ])
  })

  it('reports a transfer whose reported outcome differs from its record', async () => {
    const reported = results[0] as Extract<TransferResult, { status: 'reported' }>
    const misreported: TransferResult[] = [
      { ...reported, outcome: { ...reported.outcome, state: 'ABORTED' } },
    ]
    expect(await checkBank(ports, bank, misreported)).toEqual([
      'transfer t1 reported ABORTED but record is COMMITTED',
    ])
  })
})
