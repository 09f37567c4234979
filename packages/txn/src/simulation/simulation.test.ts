// Deterministic simulation of the transaction protocol: thousands of seeded schedules of
// concurrent bank transfers (2PC and 3PC) over the in-memory ports, with a fake clock that
// lets leases expire mid-transaction (zombie coordinators), coordinators that crash after
// random writes, writes that fail or lose their answers, and readers that resolve intents.
// After the dust settles, the sweeper recovers everything and the bank checker must find
// no violation. A failing seed is printed and replays exactly.
import { describe, expect, it } from 'vitest'
import { type CoordinatorOptions, defaultCoordinatorOptions } from '../coordinator'
import { CoordinatorCrashError } from '../errors'
import { FakeClock } from '../memory/fake-clock'
import {
  type Bank,
  checkBank,
  openAccounts,
  readAndResolve,
  recoverAll,
  runTransfer,
  type Transfer,
} from './bank'
import { SimulationScheduler } from './scheduler'
import { simulatedPorts } from './simulated-ports'

const schedulesCount = 2_000

async function simulate(seed: number): Promise<string[]> {
  const clock = new FakeClock()
  // Steps of up to 400 ms against a 1 s timeout: some coordinators outlive their lease.
  const scheduler = new SimulationScheduler(seed, clock, 400)
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
  const readerTask = async () => {
    for (let read = 0; read < 3; read++) {
      await readAndResolve(scheduled, bank, scheduler.pick(bank.accounts), options('reader')).catch(
        () => undefined,
      )
    }
    return undefined
  }
  const settled = await scheduler.run([...transferTasks, readerTask])
  const results = settled
    .slice(0, transfers.length)
    .map((result, index) =>
      result.status === 'fulfilled' && result.value
        ? result.value
        : { transfer: transfers[index]!, status: 'failed' as const },
    )
  await recoverAll(direct, bank, options('sweeper'), () => clock.advance(60_000))
  return checkBank(direct, bank, results)
}

describe('deterministic simulation of 2PC/3PC', () => {
  it(`keeps the bank sound over ${schedulesCount} seeded schedules with crashes, lost answers and expiring leases`, async () => {
    const failures: string[] = []
    for (let seed = 1; seed <= schedulesCount; seed++) {
      const violations = await simulate(seed)
      if (violations.length > 0) failures.push(`seed ${seed}: ${violations.join('; ')}`)
      if (failures.length >= 5) break
    }
    expect(failures).toEqual([])
  }, 120_000)

  it('replays a seed identically', async () => {
    expect(await simulate(42)).toEqual(await simulate(42))
  })
})
