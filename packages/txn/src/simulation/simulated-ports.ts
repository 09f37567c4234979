// Ports for the simulation: the in-memory doubles behind the seeded scheduler, with fault
// injection. Every call parks until scheduled; a write can fail before it lands (an error)
// or land and lose its answer, each with the given probability.

import type { SimulationScheduler } from '@meridian/seeded-random/simulation-scheduler'
import type { TransactionPorts } from '../coordinator'
import { hashModuloRouter } from '../key-router'
import type { FakeClock } from '../memory/fake-clock'
import { MemoryParticipant } from '../memory/memory-participant'
import { MemoryTransactionLog } from '../memory/memory-transaction-log'
import type { Participant, TransactionLog } from '../ports'

export interface FaultRates {
  failBefore: number
  loseAnswer: number
}

export class SimulatedFaultError extends Error {
  override name = 'SimulatedFaultError'
}

export function simulatedPorts(
  scheduler: SimulationScheduler,
  clock: FakeClock,
  faults: FaultRates,
) {
  const log = new MemoryTransactionLog()
  const participant = new MemoryParticipant()
  const router = hashModuloRouter(['r1', 'r2', 'r3'])
  const step = async <T>(write: boolean, call: () => Promise<T>): Promise<T> => {
    await scheduler.pause()
    if (write && scheduler.chance(faults.failBefore)) throw new SimulatedFaultError('write failed')
    const result = await call()
    if (write && scheduler.chance(faults.loseAnswer)) throw new SimulatedFaultError('answer lost')
    return result
  }
  const scheduledLog: TransactionLog = {
    create: (record) => step(true, () => log.create(record)),
    transition: (request) => step(true, () => log.transition(request)),
    read: (tenant, id) => step(false, () => log.read(tenant, id)),
    listAttention: (query) => step(false, () => log.listAttention(query)),
    clearAttention: (tenant, id) => step(true, () => log.clearAttention(tenant, id)),
  }
  const scheduledParticipant: Participant = {
    prepare: (request) => step(true, () => participant.prepare(request)),
    check: (request) => step(false, () => participant.check(request)),
    apply: (request) => step(true, () => participant.apply(request)),
    discard: (region, key, id) => step(true, () => participant.discard(region, key, id)),
    read: (region, key) => step(false, () => participant.read(region, key)),
  }
  const scheduled: TransactionPorts = {
    log: scheduledLog,
    participant: scheduledParticipant,
    clock,
    router,
  }
  /** The same state without scheduling or faults: for setup, final recovery and checking. */
  const direct: TransactionPorts = { log, participant, clock, router }
  return { scheduled, direct }
}
