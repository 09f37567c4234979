// DynamoDB-backed ports for the transaction tests: the coordination table and the three
// regional store tables of DynamoDB Local, names read through Resource as in production.
import { dynamoClient, stageConfig, storeTableResource } from '@meridian/aws'
import {
  type Clock,
  CoordinatorCrashError,
  type CoordinatorOptions,
  type CrashPoint,
  DynamoDbParticipant,
  DynamoDbTransactionLog,
  hashModuloRouter,
  type RegionalTable,
  systemClock,
  type TransactionPorts,
} from '@meridian/txn'
import { Resource } from 'sst'

const linked = Resource as unknown as Record<string, { name: string }>

export const regions: readonly string[] = stageConfig.storeRegions

export function dynamoPorts(
  clock: Clock = systemClock,
): TransactionPorts & { regions: readonly string[] } {
  const tables: Record<string, RegionalTable> = {}
  for (const region of regions) {
    tables[region] = {
      client: dynamoClient(region),
      tableName: linked[storeTableResource(region)]!.name,
    }
  }
  return {
    log: new DynamoDbTransactionLog({
      client: dynamoClient(),
      tableName: linked.Coordination!.name,
    }),
    participant: new DynamoDbParticipant(tables),
    clock,
    router: hashModuloRouter(regions),
    regions,
  }
}

export const unique = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`

/** Short timeouts, so recovery tests move the clock instead of waiting. */
export const testCoordinatorOptions: Omit<CoordinatorOptions, 'owner'> = {
  transactionTimeoutMs: 5_000,
  clockSkewMarginMs: 1_000,
  lateWriteGraceMs: 1_000,
  recordWriteAttemptsMax: 3,
}

/** A coordinator that dies right after the write at `point`. */
export function coordinatorCrashingAt(point: CrashPoint): CoordinatorOptions {
  return {
    ...testCoordinatorOptions,
    owner: 'doomed',
    faults: {
      afterWrite(reached) {
        if (reached === point) throw new CoordinatorCrashError(point)
      },
    },
  }
}
