/**
 * @meridian/ring routes keys to nodes with a consistent-hash ring that every instance, and any
 * other language, computes identically from a versioned config (validated by
 * `resolveRingConfig`, built by `ringFromConfig`): pure TypeScript with no Node built-ins, so it
 * runs in Lambda and edge handlers. Keys are hashed with two seeded MurmurHash3_x86_32 digests
 * of their UTF-8 bytes (hash.ts); nodes carry a weight, a region and an optional zone and get
 * vnodes in proportion to their weight, placed by (id, index) alone (vnode.ts); a key belongs to
 * the vnode nearest to any of 16 probes (ring-table.ts, with the measurements behind that
 * choice), so routing is independent of node order, a joining, leaving or reweighted node only
 * moves its own keys, and the busiest of 10 nodes holds ~3% more than the mean. Preference
 * lists spread replicas over regions, then zones (preference-list.ts); a bounded-load lookup
 * keeps every node under a multiple of its fair share (bounded-load.ts); movement plans list
 * the hash ranges that change owner between two configs (movement.ts); and golden-vectors.json
 * pins all of it down for other implementations.
 */

export type { OwnershipArc } from './arcs.ts'
export { arcSegmentCountMax, ownershipArcs } from './arcs.ts'
export type { ResolvedRingConfig, RingConfig, RingNode, RingNodeConfig } from './config.ts'
export {
  idLengthMax,
  nodeCountMax,
  regionLengthMax,
  resolveRingConfig,
  ringDefaults,
  vnodeCountOf,
  vnodesPerWeightMax,
  vnodeTotalMax,
  zoneLengthMax,
} from './config.ts'
export { RingConfigError, RingConfigReason, RingError } from './errors.ts'
export type { Hash64 } from './hash.ts'
export { hash64, hash64Hex, keyPosition, positionCount, seedHigh, seedLow } from './hash.ts'
export type { MovedRange, MovementPlan, Transfer } from './movement.ts'
export { movementPlan, ownershipShares } from './movement.ts'
export type { BoundedLookup } from './ring.ts'
export { defaultLoadFactor, Ring, ringFromConfig } from './ring.ts'
export { probeCountMax } from './ring-table.ts'
