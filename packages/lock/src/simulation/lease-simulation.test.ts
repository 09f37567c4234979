// Deterministic simulation of the lease protocol: several clients run withLock over the
// in-memory LockTable (the double that passes the same contract suite as DynamoDB
// Local), with a seeded scheduler choosing the order of every table call and timer,
// skewed clocks within the margin, throttling, lost answers, holders that pause past
// their lease and clients that crash. Each seed is one interleaving, checked against the
// model: fences strictly increase, a fence is held by one owner, the register's accepted
// writes are in fence order, renew/release never succeed after a takeover, a holder
// whose signal has not fired still holds the lock, and (from the register's full history,
// rejected writes included, against the grant log) no holder was deposed before it was told.
// The register enforces fence order by construction, so that last check is the one that
// tests the lock's timing rather than the double.
import { describe, expect, it } from 'vitest'
import { LockHeldError, LockTableUnavailableError } from '../errors'
import { LockService } from '../lock-service'
import { checkFencedHistory, checkGrantsIncrease, checkHistoryAgainstGrants } from './fence-checker'
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
  pausesPastLease: number
  crashes: number
  throttled: number
  answersLost: number
  steps: number
}

async function simulate(seed: number): Promise<Outcome> {
  const world = new SimulatedWorld(seed, { throttleRate: 0.1, lostAnswerRate: 0.05 })
  const random = world.random
  const table = new RecordingLockTable()
  const register = new FencedRegister()
  const violations: string[] = []
  let sectionsCompleted = 0
  let pausesPastLease = 0
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
            const write = () =>
              world.call(clientId, false, async () =>
                register.write({
                  owner,
                  fence,
                  grantsBefore: table.grants.length,
                  holderTold: signal.aborted,
                }),
              )
            await stillHolder()
            await write()
            const pastLease = random() < 0.2
            if (pastLease) pausesPastLease++
            const pause = pastLease ? leaseMs * (1 + random()) : random() * (leaseMs / 3)
            await clock.sleep(pause)
            await stillHolder()
            await write()
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
  violations.push(...checkHistoryAgainstGrants(register.history, table.grants))
  for (const event of table.holderEvents) {
    if (event.ok && event.fence !== event.latestGrantedFence)
      violations.push(
        `${event.kind} of fence ${event.fence} succeeded after grant ${event.latestGrantedFence}`,
      )
  }
  return {
    violations: violations.map((violation) => `seed ${seed}: ${violation}`),
    sectionsCompleted,
    takeovers: table.takeovers,
    staleWritesRejected: register.history.filter((write) => !write.accepted).length,
    pausesPastLease,
    crashes: world.crashed.size,
    throttled: world.faultsInjected.throttled,
    answersLost: world.faultsInjected.answersLost,
    steps,
  }
}

describe('lease protocol simulation', () => {
  it('keeps mutual exclusion by fence order over 10,000 seeded interleavings with faults', async () => {
    const seeds = 10_000
    const violations: string[] = []
    const total = {
      sectionsCompleted: 0,
      takeovers: 0,
      staleWritesRejected: 0,
      pausesPastLease: 0,
      crashes: 0,
      throttled: 0,
      answersLost: 0,
    }
    for (let seed = 1; seed <= seeds; seed++) {
      const outcome = await simulate(seed)
      violations.push(...outcome.violations)
      for (const name of Object.keys(total) as (keyof typeof total)[]) total[name] += outcome[name]
      if (violations.length > 5) break
    }
    expect(violations).toEqual([])
    // Per-seed averages a little under what these seeds give (5.76 sections, 0.69 takeovers,
    // 0.016 stale writes rejected, 1.16 pauses past the lease, 0.17 crashes, 5.2 throttled
    // calls, 2.6 lost answers): the protocol made progress, holders were deposed, and every
    // fault the world injects actually happened.
    const perSeed = (count: number) => count / seeds
    expect(perSeed(total.sectionsCompleted)).toBeGreaterThanOrEqual(5.5)
    expect(perSeed(total.takeovers)).toBeGreaterThanOrEqual(0.6)
    expect(perSeed(total.staleWritesRejected)).toBeGreaterThanOrEqual(0.015)
    expect(perSeed(total.pausesPastLease)).toBeGreaterThanOrEqual(1.1)
    expect(perSeed(total.crashes)).toBeGreaterThanOrEqual(0.15)
    expect(perSeed(total.throttled)).toBeGreaterThanOrEqual(5)
    expect(perSeed(total.answersLost)).toBeGreaterThanOrEqual(2.5)
  }, 120_000)

  it('replays a seed exactly', async () => {
    const first = await simulate(4242)
    const second = await simulate(4242)
    expect(first.steps).toBeGreaterThan(0)
    expect(second).toEqual(first)
  })
})
