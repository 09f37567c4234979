// The bank workload on DynamoDB Local: 16 accounts over the 3 regional stores, concurrent
// transfers in 2PC and 3PC whose coordinators crash after random writes, readers resolving
// intents meanwhile; between waves the clock jumps past every lease and readers meet what
// the crashed coordinators left (so later waves aren't all refused by stale intents); then
// the sweeper. The checker asserts: total conserved, no negative balance, every transfer
// applied exactly once (ledger), no intent left, every record final; and the run is
// checked to have committed, aborted and recovered crashed coordinators in real numbers.

import { seededRandom } from '@meridian/seeded-random'
import {
  type Clock,
  CoordinatorCrashError,
  type CoordinatorOptions,
  defaultCoordinatorOptions,
} from '@meridian/txn'
import { describe, expect, it } from 'vitest'
import {
  type Bank,
  checkBank,
  openAccounts,
  readAndResolve,
  recoverAll,
  runTransfer,
  type Transfer,
} from '../../../packages/txn/src/simulation/bank'
import { dynamoPorts, unique } from '../../integration/txn/support'

/** Transfers run in waves this wide: concurrent enough to contend, not so wide that every one aborts. */
const transfersPerWave = 8
/** Between waves the clock jumps past every coordinator lease (timeout + skew margin). */
const betweenWavesMs =
  defaultCoordinatorOptions.transactionTimeoutMs + defaultCoordinatorOptions.clockSkewMarginMs + 1

class OffsetClock implements Clock {
  offsetMs = 0
  nowMs() {
    return Date.now() + this.offsetMs
  }
}

describe('bank workload on DynamoDB Local', () => {
  it('conserves money and applies every transfer exactly once despite coordinator crashes', async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000)
    const random = seededRandom(seed)
    const clock = new OffsetClock()
    const ports = dynamoPorts(clock)
    const bank: Bank = {
      tenant: `bank-${unique()}`,
      accounts: Array.from({ length: 16 }, (_, index) => `account-${index}`),
      initialBalance: 100,
    }
    const options = (owner: string, crashRate = 0): CoordinatorOptions => ({
      ...defaultCoordinatorOptions,
      owner,
      lateWriteGraceMs: 1_000,
      faults: {
        afterWrite(point) {
          if (random() < crashRate) throw new CoordinatorCrashError(point)
        },
      },
    })
    await openAccounts(ports, bank, options('opener'))
    const transfers: Transfer[] = Array.from({ length: 48 }, (_, index) => {
      const from = bank.accounts[Math.floor(random() * 16)]!
      const others = bank.accounts.filter((account) => account !== from)
      return {
        id: `${bank.tenant}-${index}`,
        from,
        to: others[Math.floor(random() * others.length)]!,
        amount: 1 + Math.floor(random() * 60),
        protocol: index % 2 === 0 ? '2pc' : '3pc',
      }
    })
    let readerResolved = 0
    const resolveAsReader = async (account: string) => {
      const resolution = await readAndResolve(ports, bank, account, options('reader'))
      if (resolution === 'committed' || resolution === 'aborted') readerResolved++
    }
    const runWaves = async () => {
      const outcomes = []
      for (let start = 0; start < transfers.length; start += transfersPerWave) {
        const wave = transfers.slice(start, start + transfersPerWave)
        outcomes.push(
          ...(await Promise.all(
            wave.map((transfer, offset) =>
              runTransfer(ports, bank, transfer, options(`c${start + offset}`, 0.1)),
            ),
          )),
        )
        clock.offsetMs += betweenWavesMs
        for (const transfer of wave) {
          await resolveAsReader(transfer.from)
          await resolveAsReader(transfer.to)
        }
      }
      return outcomes
    }
    const readers = Array.from({ length: 2 }, async () => {
      for (let read = 0; read < 10; read++) {
        await resolveAsReader(bank.accounts[read % 16]!)
      }
    })
    const [outcomes] = await Promise.all([runWaves(), ...readers])
    const transferResults = outcomes.filter((result) => result !== undefined)
    await recoverAll(ports, bank, options('sweeper'), () => {
      clock.offsetMs += 60_000
    })
    expect(await checkBank(ports, bank, transferResults), `seed ${seed}`).toEqual([])
    // The workload did what the comment above claims, from the records after recovery:
    // transfers committed, some aborted, coordinators that crashed mid-protocol left records
    // that recovery made final, and readers resolved intents.
    const counts = { committed: 0, aborted: 0, crashedThenFinal: 0, readerResolved }
    for (const result of transferResults) {
      const record = await ports.log.read(bank.tenant, result.transfer.id)
      if (record?.state === 'COMMITTED') counts.committed++
      if (record?.state === 'ABORTED') counts.aborted++
      const crashed = result.status === 'failed' && result.error instanceof CoordinatorCrashError
      if (crashed && (record?.state === 'COMMITTED' || record?.state === 'ABORTED'))
        counts.crashedThenFinal++
    }
    // Runs here commit 12-21 of the 48 transfers; 8 leaves room for an unlucky seed.
    expect(counts.committed, `seed ${seed}`).toBeGreaterThanOrEqual(8)
    expect(counts.aborted, `seed ${seed}`).toBeGreaterThanOrEqual(1)
    expect(counts.crashedThenFinal, `seed ${seed}`).toBeGreaterThanOrEqual(1)
    expect(counts.readerResolved, `seed ${seed}`).toBeGreaterThanOrEqual(1)
  })
})
