// Deterministic simulation of the lease protocol: several clients run withLock over the
// in-memory LockTable (the double that passes the same contract suite as DynamoDB
// Local), with a seeded scheduler choosing the order of every table call and timer,
// skewed clocks within the margin, throttling, lost answers, holders that pause past
// their lease and clients that crash. Each seed is one interleaving, checked against the
// model: fences strictly increase, a fence is held by one owner, the register's accepted
// writes are in fence order, renew/release never succeed after a takeover, and a holder
// whose signal has not fired still holds the lock.
import { describe, expect, it } from 'vitest'
import { LockHeldError, LockTableUnavailableError } from '../errors'
import { LockService } from '../lock-service'
import { checkFencedHistory, checkGrantsIncrease } from './fence-checker'
import {
  FencedRegister,
  RecordingLockTable,
  SimulatedWorld,
  scheduledTable,
} from './simulated-world'

const leaseMs = 300
const clockSkewMarginMs = 40
const tenant = 'sim'
const name = 'resource'

interface Outcome {
  violations: string[]
  sectionsCompleted: number
  takeovers: number
  staleWritesRejected: number
  steps: number
}

async function simulate(seed: number): Promise<Outcome> {
  const world = new SimulatedWorld(seed, { throttleRate: 0.1, lostAnswerRate: 0.05 })
  const random = world.random
  const table = new RecordingLockTable()
  const register = new FencedRegister()
  const violations: string[] = []
  let sectionsCompleted = 0
  const clientCount = 2 + Math.floor(random() * 3)
  const roundsPerClient = 2

  const client = async (clientId: number) => {
    // Each client's clock is off by up to half the margin, so any two differ by ≤ margin.
    const offsetMs = Math.round((random() - 0.5) * clockSkewMarginMs)
    const clock = world.clock(clientId, offsetMs)
    const service = new LockService({
      table: scheduledTable(world, clientId, table),
      clock,
      clockSkewMarginMs,
      random,
      // Coarser polling than production keeps interleavings short; the protocol is the same.
      backoff: { baseMs: 10, capMs: 60 },
    })
    for (let round = 0; round < roundsPerClient; round++) {
      const owner = `c${clientId}r${round}`
      try {
        await service.withLock(
          tenant,
          name,
          async ({ fence, signal }) => {
            const stillHolder = async () => {
              if (signal.aborted) return
              const current = await table.inner.read({ tenant, name })
              if (current?.fence !== fence || current.owner !== owner)
                violations.push(
                  `${owner} fence ${fence}: signal not fired but lock is ${JSON.stringify(current)}`,
                )
            }
            await stillHolder()
            await world.call(clientId, false, async () => register.write(owner, fence))
            const pause = random() < 0.2 ? leaseMs * (1 + random()) : random() * (leaseMs / 3)
            await clock.sleep(pause)
            await stillHolder()
            await world.call(clientId, false, async () => register.write(owner, fence))
          },
          { leaseMs, waitMs: 2_000, owner },
        )
        sectionsCompleted++
      } catch (error) {
        if (!(error instanceof LockHeldError || error instanceof LockTableUnavailableError))
          violations.push(`${owner}: unexpected ${String(error)}`)
      }
    }
  }

  const clients = Array.from({ length: clientCount }, (_, clientId) => client(clientId))
  const crashAt =
    random() < 0.3
      ? { clientId: Math.floor(random() * clientCount), step: Math.floor(random() * 200) }
      : undefined
  const steps = await world.run(20_000, crashAt)
  // Clients that did not crash must have finished: the protocol is live.
  const finished = await Promise.race([
    Promise.all(clients.filter((_, clientId) => !world.crashed.has(clientId))).then(() => true),
    new Promise<boolean>((resolve) => setImmediate(() => resolve(false))),
  ])
  if (!finished) violations.push(`seed ${seed}: a live client never finished (${steps} steps)`)

  violations.push(...checkGrantsIncrease(table.grants.map((grant) => grant.fence)))
  const grantedTo = new Map(table.grants.map((grant) => [grant.fence, grant.owner]))
  violations.push(
    ...checkFencedHistory(
      register.history.filter((write) => write.accepted),
      grantedTo,
    ),
  )
  for (const event of table.holderEvents) {
    if (event.ok && event.fence !== event.latestGrantedFence)
      violations.push(
        `${event.kind} of fence ${event.fence} succeeded after grant ${event.latestGrantedFence}`,
      )
  }
  return {
    violations: violations.map((violation) => `seed ${seed}: ${violation}`),
    sectionsCompleted,
    takeovers: table.grants.length - 1,
    staleWritesRejected: register.history.filter((write) => !write.accepted).length,
    steps,
  }
}

describe('lease protocol simulation', () => {
  it('keeps mutual exclusion by fence order over 10,000 seeded interleavings with faults', async () => {
    const seeds = 10_000
    const violations: string[] = []
    let sectionsCompleted = 0
    let staleWritesRejected = 0
    for (let seed = 1; seed <= seeds; seed++) {
      const outcome = await simulate(seed)
      violations.push(...outcome.violations)
      sectionsCompleted += outcome.sectionsCompleted
      staleWritesRejected += outcome.staleWritesRejected
      if (violations.length > 5) break
    }
    expect(violations).toEqual([])
    // The faults actually happened: holders paused past their lease and lost writes.
    expect(sectionsCompleted).toBeGreaterThan(seeds)
    expect(staleWritesRejected).toBeGreaterThan(0)
  }, 120_000)

  it('replays a seed exactly', async () => {
    const first = await simulate(4242)
    const second = await simulate(4242)
    expect(second).toEqual(first)
  })
})
