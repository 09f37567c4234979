// Contention, end to end on DynamoDB Local: 8 contenders run withLock on one name, each
// with its own clock offset (within the skew margin), all through a LockTable that
// throttles some calls, and some holders freeze past their lease (a process pause:
// neither fn nor the renewals run) and then write anyway. The protected resource is a
// KV item in a regional store written with the lock's fence (the store rejects a lower
// fence inside its own conditional write); every accepted write appends itself to the
// item's value, so the item holds the store's own history of accepted writes. The checker
// reads that history and verifies: no write with a stale fence was accepted, critical
// sections ordered by fence never overlap, each fence was written by its grantee only.
import { dynamoClient, stageConfig, storeTableResource } from '@meridian/aws'
import {
  type Clock,
  LockService,
  type LockTable,
  type LockWriteResult,
  systemClock,
} from '@meridian/lock'
import {
  DynamoRegionalStore,
  StaleFenceError,
  storageKey,
  VersionMismatchError,
} from '@meridian/store'
import { Resource } from 'sst'
import { describe, expect, it } from 'vitest'
import {
  type AcceptedWrite,
  checkFencedHistory,
} from '../../../packages/lock/src/simulation/fence-checker'
import { dynamoLockTable, uniqueTenant } from '../../integration/lock/support'

const contenders = 8
const roundsPerContender = 2
const leaseMs = 300
const clockSkewMarginMs = 150
const pauseMs = leaseMs + 2 * clockSkewMarginMs + 300

const linked = Resource as unknown as Record<string, { name: string }>
const region = stageConfig.homeRegion
const store = new DynamoRegionalStore({
  client: dynamoClient(region),
  tableName: linked[storeTableResource(region)]!.name,
})

/** Appends one entry to the history item, fenced, with CAS on the version it read. */
async function appendFenced(key: string, entry: AcceptedWrite): Promise<'accepted' | 'stale'> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const item = await store.get(key)
    const history: AcceptedWrite[] = item?.value
      ? JSON.parse(new TextDecoder().decode(item.value))
      : []
    history.push(entry)
    try {
      await store.put(
        key,
        {
          value: new TextEncoder().encode(JSON.stringify(history)),
          contentType: 'application/json',
        },
        { fence: entry.fence, expectedVersion: item ? item.version : 'absent' },
      )
      return 'accepted'
    } catch (error) {
      if (error instanceof StaleFenceError) return 'stale'
      if (!(error instanceof VersionMismatchError)) throw error
    }
  }
  throw new Error('history append kept losing its compare-and-swap')
}

/** The lock table as one contender sees it: some calls throttled, all frozen while paused. */
interface Grant {
  fence: number
  owner: string
  atMs: number
}

function contenderTable(
  real: LockTable,
  grants: Grant[],
  frozen: { untilMs: number },
  random: () => number,
): LockTable {
  const gate = async () => {
    const remainingMs = frozen.untilMs - Date.now()
    if (remainingMs > 0) await systemClock.sleep(remainingMs)
    if (random() < 0.15)
      throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
        name: 'ProvisionedThroughputExceededException',
      })
  }
  const recordGrant = (result: LockWriteResult) => {
    if (result.ok && result.record.owner)
      grants.push({ fence: result.record.fence, owner: result.record.owner, atMs: Date.now() })
    return result
  }
  return {
    async acquire(...args) {
      await gate()
      return recordGrant(await real.acquire(...args))
    },
    async create(...args) {
      await gate()
      return recordGrant(await real.create(...args))
    },
    async renew(...args) {
      await gate()
      return real.renew(...args)
    },
    async release(...args) {
      await gate()
      return real.release(...args)
    },
    read: (...args) => real.read(...args),
    readFenceFloor: (...args) => real.readFenceFloor(...args),
    removeIdle: (...args) => real.removeIdle(...args),
  }
}

describe('lock contention with pauses, skew and throttling', () => {
  it('never lets a stale fence write and keeps sections in fence order, from the store history', async () => {
    const tenant = uniqueTenant()
    const key = storageKey(tenant, 'protected')
    const grants: Grant[] = []
    const real = dynamoLockTable()
    let staleRejected = 0
    const pauses: Array<{ fence: number; startMs: number; endMs: number }> = []

    const contender = async (index: number) => {
      const offsetMs = Math.round((index / (contenders - 1) - 0.5) * clockSkewMarginMs)
      const clock: Clock = { nowMs: () => Date.now() + offsetMs, sleep: systemClock.sleep }
      const frozen = { untilMs: 0 }
      const locks = new LockService({
        table: contenderTable(real, grants, frozen, Math.random),
        clock,
        clockSkewMarginMs,
      })
      for (let round = 0; round < roundsPerContender; round++) {
        const owner = `c${index}r${round}`
        await locks.withLock(
          tenant,
          'resource',
          async ({ fence }) => {
            if ((await appendFenced(key, { owner, fence })) === 'stale') staleRejected++
            if ((index + round) % 4 === 0) {
              // A process pause: renewals freeze with fn, the lease lapses, others take over.
              const startMs = Date.now()
              frozen.untilMs = startMs + pauseMs
              await systemClock.sleep(pauseMs)
              pauses.push({ fence, startMs, endMs: Date.now() })
            }
            if ((await appendFenced(key, { owner, fence })) === 'stale') staleRejected++
          },
          { leaseMs, waitMs: 30_000, owner },
        )
      }
    }
    await Promise.all(Array.from({ length: contenders }, (_, index) => contender(index)))

    const item = await store.get(key)
    const history: AcceptedWrite[] = JSON.parse(new TextDecoder().decode(item!.value))
    const grantedTo = new Map(grants.map((grant) => [grant.fence, grant.owner]))
    expect(checkFencedHistory(history, grantedTo)).toEqual([])
    expect(item!.fence).toBe(Math.max(...history.map((write) => write.fence)))
    // Every section wrote at least once; a frozen holder was really taken over (a higher
    // fence granted while it was paused) and its late write fenced out.
    expect(new Set(history.map((write) => write.owner)).size).toBe(contenders * roundsPerContender)
    const takenOverWhileFrozen = pauses.filter((pause) =>
      grants.some(
        (grant) =>
          grant.fence > pause.fence && grant.atMs >= pause.startMs && grant.atMs <= pause.endMs,
      ),
    )
    expect(takenOverWhileFrozen.length).toBeGreaterThan(0)
    expect(staleRejected).toBeGreaterThan(0)
  }, 60_000)
})
