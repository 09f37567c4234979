// Crash injection on DynamoDB Local: the coordinator dies after each write of the protocol
// (and, separately, a write lands but its answer is lost); then a reader or the sweeper
// finishes the transaction. Every run must end atomic (all keys new or all keys old), with
// no intent left and the record final and out of the attention index.
import {
  type Clock,
  CoordinatorCrashError,
  type CrashPoint,
  executeTransaction,
  type Participant,
  type Protocol,
  resolveIntent,
  sweep,
  type TransactionLog,
  type TransactionOperation,
  type TransactionPorts,
} from '@meridian/txn'
import { describe, expect, it } from 'vitest'
import { coordinatorCrashingAt, dynamoPorts, testCoordinatorOptions, unique } from './support'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

class OffsetClock implements Clock {
  offsetMs = 0
  nowMs() {
    return Date.now() + this.offsetMs
  }
}

interface Scenario {
  tenant: string
  keys: string[]
  ports: TransactionPorts
  clock: OffsetClock
}

async function setUp(wrap?: (ports: TransactionPorts) => TransactionPorts): Promise<Scenario> {
  const clock = new OffsetClock()
  const raw = dynamoPorts(clock)
  const ports = wrap ? wrap(raw) : raw
  const tenant = `crash-${unique()}`
  const keys = ['a', 'b', 'c']
  // Seed version 1 of every key through an uncontended transaction.
  await executeTransaction(
    raw,
    {
      tenant,
      id: `seed-${unique()}`,
      protocol: '2pc',
      operations: keys.map((key) => put(key, 'old', 'absent')),
    },
    { ...testCoordinatorOptions, owner: 'seeder' },
  )
  return { tenant, keys, ports, clock }
}

function put(key: string, text: string, expectedVersion?: number | 'absent'): TransactionOperation {
  return {
    kind: 'put',
    key,
    value: encoder.encode(text),
    contentType: 'text/plain',
    ...(expectedVersion !== undefined && { expectedVersion }),
  }
}

async function valuesOf(scenario: Scenario) {
  return Promise.all(
    scenario.keys.map(async (key) => {
      const storageKey = `${scenario.tenant}#${key}`
      const region = await scenario.ports.router.regionOf(storageKey)
      return {
        key,
        storageKey,
        region,
        item: await scenario.ports.participant.read(region, storageKey),
      }
    }),
  )
}

async function recoverByReaders(scenario: Scenario) {
  for (const { storageKey, region, item } of await valuesOf(scenario)) {
    if (item?.intent) {
      await resolveIntent(
        scenario.ports,
        { tenant: scenario.tenant, region, storageKey, intent: item.intent },
        testCoordinatorOptions,
      )
    }
  }
}

async function recoverBySweeper(scenario: Scenario) {
  // Two passes: the first decides and settles, the second (after the grace) leaves the index.
  await sweep(scenario.ports, { ...testCoordinatorOptions, limit: 10, tenant: scenario.tenant })
  scenario.clock.offsetMs += 60_000
  await sweep(scenario.ports, { ...testCoordinatorOptions, limit: 10, tenant: scenario.tenant })
}

async function assertAtomicAndClean(
  scenario: Scenario,
  id: string,
  expected: 'COMMITTED' | 'ABORTED',
  recordDecided = true,
) {
  const items = await valuesOf(scenario)
  for (const { item } of items) expect(item?.intent).toBeUndefined()
  const texts = items.map(({ item }) => decoder.decode(item?.value))
  expect(texts).toEqual(scenario.keys.map(() => (expected === 'COMMITTED' ? 'new' : 'old')))
  const versions = items.map(({ item }) => item?.version)
  expect(versions).toEqual(scenario.keys.map(() => (expected === 'COMMITTED' ? 2 : 1)))
  // A crash before any intent leaves readers nothing to meet; the sweeper decides that record.
  if (recordDecided)
    expect((await scenario.ports.log.read(scenario.tenant, id))?.state).toBe(expected)
}

async function assertLeftIndex(scenario: Scenario, id: string, expected: 'COMMITTED' | 'ABORTED') {
  await recoverBySweeper(scenario)
  const record = await scenario.ports.log.read(scenario.tenant, id)
  expect(record?.state).toBe(expected)
  expect(record?.attentionDueAtMs).toBeUndefined()
}

const commitPoints = (protocol: Protocol): CrashPoint[] => [
  'after-create',
  'after-prepare-0',
  'after-prepare-1',
  'after-prepare-2',
  ...(protocol === '3pc' ? (['after-precommit'] as const) : []),
  'after-commit',
  'after-apply-0',
  'after-apply-1',
  'after-apply-2',
]
const expectedAfter = (point: CrashPoint) =>
  point === 'after-create' || point.startsWith('after-prepare') ? 'ABORTED' : 'COMMITTED'

const cases = (['2pc', '3pc'] as const).flatMap((protocol) =>
  commitPoints(protocol).flatMap((point) =>
    (['reader', 'sweeper'] as const).map((recovery) => ({ protocol, point, recovery })),
  ),
)

describe('a coordinator that crashes after a write', () => {
  it.each(cases)(
    '$protocol crash $point is finished by the $recovery atomically',
    async ({ protocol, point, recovery }) => {
      const scenario = await setUp()
      const id = `t-${unique()}`
      const crash = await executeTransaction(
        scenario.ports,
        {
          tenant: scenario.tenant,
          id,
          protocol,
          operations: scenario.keys.map((key) => put(key, 'new', 1)),
        },
        coordinatorCrashingAt(point),
      ).catch((error: unknown) => error)
      expect(crash).toBeInstanceOf(CoordinatorCrashError)
      // The coordinator's lease runs out; recovery takes over.
      scenario.clock.offsetMs += 60_000
      if (recovery === 'reader') await recoverByReaders(scenario)
      else await recoverBySweeper(scenario)
      await assertAtomicAndClean(
        scenario,
        id,
        expectedAfter(point),
        recovery === 'sweeper' || point !== 'after-create',
      )
      await assertLeftIndex(scenario, id, expectedAfter(point))
    },
  )

  it.each(['after-prepare-0', 'after-abort', 'after-discard-0'] as const)(
    'an aborting transaction crashed at %s is rolled back by readers',
    async (point) => {
      const scenario = await setUp()
      const id = `t-${unique()}`
      // Key c expects version 9: it votes no, the others stage intents, the decision is abort.
      const operations = [put('a', 'new', 1), put('b', 'new', 1), put('c', 'new', 9)]
      const crash = await executeTransaction(
        scenario.ports,
        { tenant: scenario.tenant, id, protocol: '2pc', operations },
        coordinatorCrashingAt(point),
      ).catch((error: unknown) => error)
      expect(crash).toBeInstanceOf(CoordinatorCrashError)
      scenario.clock.offsetMs += 60_000
      await recoverByReaders(scenario)
      await assertAtomicAndClean(scenario, id, 'ABORTED')
      await assertLeftIndex(scenario, id, 'ABORTED')
    },
  )
})

type LossTarget = 'create' | 'prepare' | 'decision' | 'apply'

/** Ports whose first call of the target kind performs the write and then loses its answer. */
function losing(target: LossTarget): (ports: TransactionPorts) => TransactionPorts {
  return (ports) => {
    let lost = false
    const loseOnce = async <T>(kind: LossTarget, call: () => Promise<T>): Promise<T> => {
      const result = await call()
      if (kind === target && !lost) {
        lost = true
        throw new Error(`answer of ${kind} lost`)
      }
      return result
    }
    const log: TransactionLog = {
      create: (record) => loseOnce('create', () => ports.log.create(record)),
      transition: (request) => loseOnce('decision', () => ports.log.transition(request)),
      read: (tenant, id) => ports.log.read(tenant, id),
      listAttention: (query) => ports.log.listAttention(query),
      clearAttention: (tenant, id) => ports.log.clearAttention(tenant, id),
    }
    const participant: Participant = {
      prepare: (request) => loseOnce('prepare', () => ports.participant.prepare(request)),
      check: (request) => ports.participant.check(request),
      apply: (request) => loseOnce('apply', () => ports.participant.apply(request)),
      discard: (region, key, id) => ports.participant.discard(region, key, id),
      read: (region, key) => ports.participant.read(region, key),
    }
    return { ...ports, log, participant }
  }
}

describe('a write that lands but whose answer is lost', () => {
  const expected: Record<LossTarget, 'COMMITTED' | 'ABORTED'> = {
    create: 'COMMITTED',
    prepare: 'ABORTED',
    decision: 'COMMITTED',
    apply: 'COMMITTED',
  }
  it.each(Object.keys(expected) as LossTarget[])(
    'a lost %s answer still ends atomic once the sweeper ran',
    async (target) => {
      const scenario = await setUp(losing(target))
      const id = `t-${unique()}`
      const outcome = await executeTransaction(
        scenario.ports,
        {
          tenant: scenario.tenant,
          id,
          protocol: '2pc',
          operations: scenario.keys.map((key) => put(key, 'new', 1)),
        },
        { ...testCoordinatorOptions, owner: 'coordinator' },
      )
      expect(outcome.state).toBe(expected[target])
      scenario.clock.offsetMs += 60_000
      await recoverBySweeper(scenario)
      await assertAtomicAndClean(scenario, id, expected[target])
      await assertLeftIndex(scenario, id, expected[target])
    },
  )
})
