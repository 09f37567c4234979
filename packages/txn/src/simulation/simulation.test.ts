// Deterministic simulation of the transaction protocol: thousands of seeded schedules of
// concurrent bank transfers (2PC and 3PC) over the in-memory ports, with a fake clock that
// lets leases expire mid-transaction (zombie coordinators), coordinators that crash after
// random writes, writes that fail or lose their answers, and readers that resolve intents.
// After the dust settles, the sweeper recovers everything and the bank checker must find
// no violation. A failing seed is printed and replays exactly. Each run also counts what
// happened (commits, aborts, crashed coordinators whose record ended final, intents readers
// resolved), so a coordinator that never commits or never gets that far can't pass.

import { SimulationScheduler } from '@meridian/seeded-random/simulation-scheduler'
import { describe, expect, it } from 'vitest'
import { type CoordinatorOptions, defaultCoordinatorOptions } from '../coordinator'
import { CoordinatorCrashError } from '../errors'
import { FakeClock } from '../memory/fake-clock'
import {
  type Bank,
  checkBank,
  openAccounts,
  readAndResolve,
  readBalances,
  recoverAll,
  runTransfer,
  type Transfer,
  type TransferResult,
} from './bank'
import { simulatedPorts } from './simulated-ports'

const schedulesCount = 2_000

interface Counts {
  committed: number
  aborted: number
  /** Coordinators that crashed mid-protocol and whose record recovery then made final. */
  crashedThenFinal: number
  /** Intents a reader met and rolled forward or back. */
  readerResolved: number
}

interface Run {
  violations: string[]
  counts: Counts
  /** Everything a replay must reproduce: the interleaving, each outcome, the final balances. */
  trace: {
    released: number[]
    clockMs: number
    transfers: string[]
    balances: Record<string, number>
  }
}

function describeResult(result: TransferResult): string {
  if (result.status === 'reported') return `${result.transfer.id} ${result.outcome.state}`
  const reason = result.error instanceof Error ? result.error.name : 'none'
  return `${result.transfer.id} ${result.status} (${reason})`
}

async function simulate(seed: number): Promise<Run> {
  const clock = new FakeClock()
  // Even seeds: steps of up to 400 ms against a 1 s timeout, so many coordinators outlive
  // their lease (zombies, deadline aborts). Odd seeds: steps of up to 40 ms, so most
  // transactions can finish in time and the commit path runs under the same faults.
  const scheduler = new SimulationScheduler(seed, clock, seed % 2 === 0 ? 400 : 40)
  const faults = scheduler.chance(0.5)
    ? { failBefore: 0.03, loseAnswer: 0.05 }
    : { failBefore: 0, loseAnswer: 0 }
  const { scheduled, direct } = simulatedPorts(scheduler, clock, faults)
  const bank: Bank = { tenant: 'sim', accounts: ['a', 'b', 'c', 'd'], initialBalance: 10 }
  const options = (owner: string, crashRate = 0): CoordinatorOptions => ({
    ...defaultCoordinatorOptions,
    owner,
    transactionTimeoutMs: 1_000,
    clockSkewMarginMs: 200,
    lateWriteGraceMs: 2_000,
    faults: {
      afterWrite(point) {
        if (scheduler.chance(crashRate)) throw new CoordinatorCrashError(point)
      },
    },
  })
  await openAccounts(direct, bank, options('opener'))

  const transfers: Transfer[] = Array.from({ length: 3 }, (_, index) => {
    const from = scheduler.pick(bank.accounts)
    const others = bank.accounts.filter((account) => account !== from)
    return {
      id: `s${seed}-t${index}`,
      from,
      to: scheduler.pick(others),
      amount: 1 + Math.floor(scheduler.random() * 6),
      protocol: scheduler.chance(0.5) ? '3pc' : '2pc',
    }
  })
  const transferTasks = transfers.map(
    (transfer, index) => () => runTransfer(scheduled, bank, transfer, options(`c${index}`, 0.08)),
  )
  let readerResolved = 0
  const readerTask = async () => {
    for (let read = 0; read < 3; read++) {
      const resolution = await readAndResolve(
        scheduled,
        bank,
        scheduler.pick(bank.accounts),
        options('reader'),
      ).catch(() => 'failed')
      if (resolution === 'committed' || resolution === 'aborted') readerResolved++
    }
    return undefined
  }
  const settled = await scheduler.run([...transferTasks, readerTask])
  const results: TransferResult[] = settled
    .slice(0, transfers.length)
    .map((result, index) =>
      result.status === 'fulfilled' && result.value
        ? result.value
        : { transfer: transfers[index]!, status: 'failed' as const },
    )
  await recoverAll(direct, bank, options('sweeper'), () => clock.advance(60_000))

  const counts: Counts = { committed: 0, aborted: 0, crashedThenFinal: 0, readerResolved }
  for (const result of results) {
    const record = await direct.log.read(bank.tenant, result.transfer.id)
    if (record?.state === 'COMMITTED') counts.committed++
    if (record?.state === 'ABORTED') counts.aborted++
    const crashed = result.status === 'failed' && result.error instanceof CoordinatorCrashError
    if (crashed && (record?.state === 'COMMITTED' || record?.state === 'ABORTED'))
      counts.crashedThenFinal++
  }
  return {
    violations: await checkBank(direct, bank, results),
    counts,
    trace: {
      released: scheduler.released,
      clockMs: clock.nowMs(),
      transfers: results.map(describeResult),
      balances: await readBalances(direct, bank),
    },
  }
}

describe('deterministic simulation of 2PC/3PC', () => {
  it(`keeps the bank sound over ${schedulesCount} seeded schedules with crashes, lost answers and expiring leases`, async () => {
    const failures: string[] = []
    const total: Counts = { committed: 0, aborted: 0, crashedThenFinal: 0, readerResolved: 0 }
    for (let seed = 1; seed <= schedulesCount; seed++) {
      const run = await simulate(seed)
      if (run.violations.length > 0) failures.push(`seed ${seed}: ${run.violations.join('; ')}`)
      for (const name of Object.keys(total) as (keyof Counts)[]) total[name] += run.counts[name]
      if (failures.length >= 5) break
    }
    expect(failures).toEqual([])
    // Liveness floors over the 6,000 transfers (3 per schedule), a little under what these
    // seeds give (893 committed, 5,106 aborted, 2,665 crashed then final, 668 resolved by
    // readers): a coordinator that never commits, never aborts, or never gets as far as
    // leaving something to recover fails here even though the bank stays sound.
    expect(total.committed).toBeGreaterThanOrEqual(800)
    expect(total.aborted).toBeGreaterThanOrEqual(4_500)
    expect(total.crashedThenFinal).toBeGreaterThanOrEqual(2_400)
    expect(total.readerResolved).toBeGreaterThanOrEqual(600)
  }, 120_000)

  it('replays a seed identically: same interleaving, outcomes and balances', async () => {
    const first = await simulate(42)
    const second = await simulate(42)
    expect(first.trace.released.length).toBeGreaterThan(0)
    expect(second.trace).toEqual(first.trace)
    expect(second.counts).toEqual(first.counts)
    // A different seed takes a different path, so the trace really depends on the seed.
    expect((await simulate(43)).trace).not.toEqual(first.trace)
  })
})
