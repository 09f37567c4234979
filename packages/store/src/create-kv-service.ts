// Assembles a KV service from its parts: the regional stores, where the ring config is
// stored, and how a config becomes a router. The ring cache checks every config against the
// service (each node's region has a store; enough regions for the replication factor).
import {
  type IntentResolver,
  KvService,
  type KvServiceOptions,
  type ReplicaHealth,
  type Replication,
} from './kv-service'
import type { RegionalStore } from './regional-store'
import { RingCache } from './ring-cache'
import {
  initialRingConfig,
  type KeyRouterFactory,
  type RingConfigResolver,
  type RingConfigStore,
} from './ring-config'
import { resolveRingLayout, ringRouterFactory } from './ring-router'

export interface KvServiceParts {
  /** One regional store per region, by region name; the initial ring has one node per entry. */
  stores: Readonly<Record<string, RegionalStore>>
  ringStore: RingConfigStore
  /** How a config becomes a router; defaults to @meridian/ring (ringRouterFactory). */
  routerFactory?: KeyRouterFactory
  /** Checks and completes a config before it is stored; defaults to the ring's own. */
  resolveRingConfig?: RingConfigResolver
  replication?: Replication
  resolveIntent?: IntentResolver
  /** The region health view quorum reads consult (a FailureDetector). */
  health?: ReplicaHealth
  onRepair?: KvServiceOptions['onRepair']
  repairGraceMs?: number
  /** How old a handler's copy of the ring may get before it reloads (default 5 s). */
  ringStalenessMs?: number
  nowMs?: () => number
}

export function createKvService(parts: KvServiceParts): KvService {
  const ring: RingCache = new RingCache({
    store: parts.ringStore,
    routerFactory: parts.routerFactory ?? ringRouterFactory,
    initialConfig: initialRingConfig(Object.keys(parts.stores)),
    validate: (config) => service.validateRing(config),
    resolve: parts.resolveRingConfig ?? resolveRingLayout,
    ...(parts.ringStalenessMs !== undefined && { stalenessMs: parts.ringStalenessMs }),
    ...(parts.nowMs !== undefined && { nowMs: parts.nowMs }),
  })
  const service: KvService = new KvService({
    stores: parts.stores,
    ring,
    ...(parts.replication && { replication: parts.replication }),
    ...(parts.resolveIntent && { resolveIntent: parts.resolveIntent }),
    ...(parts.health && { health: parts.health }),
    ...(parts.onRepair && { onRepair: parts.onRepair }),
    ...(parts.repairGraceMs !== undefined && { repairGraceMs: parts.repairGraceMs }),
    ...(parts.nowMs !== undefined && { nowMs: parts.nowMs }),
  })
  return service
}
