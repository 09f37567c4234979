/**
 * Where a node's vnodes sit on the ring. A vnode's position depends only on the node id and
 * the vnode's index, never on the other nodes, which is what makes the ring independent of
 * insertion order and lets a new node take keys only for itself.
 *
 * With (idHigh, idLow) = hash64(id), vnode j sits at the ring position of
 *   hash64 of the 12 bytes u32le(idHigh) ‖ u32le(idLow) ‖ u32le(j),
 * i.e. the same two seeded MurmurHash3_x86_32 digests as keys, over that 12-byte message.
 * The first two blocks are the same for every vnode of a node, so their state is computed
 * once per node and each vnode costs one block and two finalisations, several times cheaper
 * than hashing a string such as "id#j" per vnode, which matters when a 1000-node ring has a
 * quarter of a million vnodes to place.
 */
import { finalize, hash64, mixBlock, positionOf, seedHigh, seedLow, stepState } from './hash.ts'

/** The vnode message: two 4-byte halves of the id's hash and a 4-byte vnode index. */
export const vnodeMessageBytes = 12

/** The per-node hash state that every vnode position of that node continues from. */
export interface VnodeSeed {
  readonly stateHigh: number
  readonly stateLow: number
}

export function vnodeSeedOf(id: string): VnodeSeed {
  const idHash = hash64(id)
  const first = mixBlock(idHash.high)
  const second = mixBlock(idHash.low)
  return {
    stateHigh: stepState(stepState(seedHigh, first), second),
    stateLow: stepState(stepState(seedLow, first), second),
  }
}

/** The ring position of vnode `index` of the node whose seed is given. */
export function vnodePosition(seed: VnodeSeed, index: number): number {
  const mixed = mixBlock(index)
  const high = finalize(stepState(seed.stateHigh, mixed), vnodeMessageBytes)
  const low = finalize(stepState(seed.stateLow, mixed), vnodeMessageBytes)
  return positionOf(high, low)
}
