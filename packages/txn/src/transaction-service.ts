// The service the HTTP routes and the recovery function use: one object that holds the
// ports and options and exposes execute, read, list-in-doubt, reader resolution and sweep.
import { randomUUID } from 'node:crypto'
import type { Intent } from '@meridian/store'
import {
  type CoordinatorOptions,
  defaultCoordinatorOptions,
  executeTransaction,
  type TransactionOutcome,
  type TransactionPorts,
} from './coordinator'
import type { TransactionOperation } from './operations'
import type { TransactionRecord } from './record'
import {
  type IntentEncounter,
  type IntentResolution,
  resolveIntent,
  type SweepObserver,
  type SweepResult,
  sweep,
} from './recovery'
import type { Protocol } from './transaction-state'

export interface ExecuteRequest {
  /** A client-supplied id makes retries idempotent; one is generated when omitted. */
  id?: string
  protocol?: Protocol
  operations: readonly TransactionOperation[]
  /** The caller's correlation id (the API passes the request's), recorded with the transaction. */
  correlationId?: string
}

export const inDoubtListLimitMax = 100
export const sweepBatchMax = 50

export class TransactionService {
  readonly options: CoordinatorOptions

  constructor(
    readonly ports: TransactionPorts,
    options: Partial<CoordinatorOptions> = {},
  ) {
    this.options = {
      ...defaultCoordinatorOptions,
      owner: `coordinator-${randomUUID()}`,
      ...options,
    }
  }

  execute(tenant: string, request: ExecuteRequest): Promise<TransactionOutcome> {
    return executeTransaction(
      this.ports,
      {
        tenant,
        id: request.id ?? randomUUID(),
        protocol: request.protocol ?? '2pc',
        operations: request.operations,
        ...(request.correlationId !== undefined && { correlationId: request.correlationId }),
      },
      this.options,
    )
  }

  get(tenant: string, id: string): Promise<TransactionRecord | undefined> {
    return this.ports.log.read(tenant, id)
  }

  /** Transactions not yet known to be finished everywhere (the attention index). */
  listInDoubt(tenant: string, limit: number): Promise<TransactionRecord[]> {
    return this.ports.log.listAttention({ tenant, limit: Math.min(limit, inDoubtListLimitMax) })
  }

  /** The store's intent-resolver port: what a KV read calls when it meets an intent. */
  resolveIntent(encounter: IntentEncounter): Promise<IntentResolution> {
    return resolveIntent(this.ports, encounter, this.options)
  }

  sweep(limit = sweepBatchMax, observer?: SweepObserver): Promise<SweepResult> {
    return sweep(this.ports, { ...this.options, limit: Math.min(limit, sweepBatchMax) }, observer)
  }
}

/**
 * The KV store's intent-resolver port (packages/store kv-service.ts `IntentResolver`):
 * `resolve(storageKey, item, region)`. The tenant is the storage key's prefix; the region is
 * the store the reader read the intent from (while a ring migrates, that can be the key's
 * old owner), or where the key routes when the reader doesn't say.
 */
export function storeIntentResolver(service: TransactionService) {
  return {
    async resolve(
      storageKey: string,
      item: { intent: Intent },
      readIn?: string,
    ): Promise<IntentResolution> {
      const tenant = storageKey.slice(0, storageKey.indexOf('#'))
      const region = readIn ?? (await service.ports.router.regionOf(storageKey))
      return service.resolveIntent({ tenant, region, storageKey, intent: item.intent })
    },
  }
}
