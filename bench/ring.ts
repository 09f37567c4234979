// Meridian's ring side by side with the npm packages `hashring` (ketama/MD5, default settings)
// and `consistent-hash` (defaults) in one process: 10 nodes, 1,000,000 seeded keys, the median
// of several interleaved passes after a warm-up pass. Prints human-readable lines, then one
// JSON line last. These are measurements, not tests: nothing here asserts on time.
//
// Passes are timed in CPU time of this process (process.cpuUsage), not wall time: the machine
// is shared, and wall time also counts the slices the scheduler gave to other processes, which
// made medians swing by 2-5x between runs. CPU time still includes this process's garbage
// collector threads, so allocation is charged to whoever allocates.

import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { ownershipShares, Ring, type RingConfig, type RingNode } from '@meridian/ring'
import { seededUint32 } from '@meridian/seeded-random'
import ConsistentHash from 'consistent-hash'
import HashRing from 'hashring'

// A full collection, then a pause for the collector's background sweeping, before each timed
// pass, so no pass pays for garbage made before it (the million keys, the other libraries,
// earlier passes). gc() is only reachable this way without restarting node with --expose-gc.
setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void
const settleMs = 100

const nodeCount = 10
const keyCount = 1_000_000
const timedPassCount = 9
const hashringPassCount = 5
const replicaKeyCount = 200_000
const replicaCount = 3
const buildNodeCount = 1000
const buildRunCount = 11
const buildWarmUpCount = 5
const keySeed = 0x6d657269
const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2']
const zones = ['a', 'b', 'c']

function makeKeys(count: number): string[] {
  const random = seededUint32(keySeed)
  const keys = new Array<string>(count)
  for (let index = 0; index < count; index++) keys[index] = `user:${random() % 10_000_000}`
  return keys
}

function makeConfig(count: number, version = 1): RingConfig {
  return {
    version,
    nodes: Array.from({ length: count }, (_, index) => ({
      id: `node-${index}`,
      region: regions[index % regions.length]!,
      zone: zones[Math.floor(index / regions.length) % zones.length]!,
    })),
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right)
  return sorted[Math.floor(sorted.length / 2)]!
}

// One loop per implementation so each call site stays monomorphic; each returns a count that
// depends on every result, so no lookup can be optimised away.
function passMeridian(ring: Ring, keys: readonly string[], marker: RingNode): number {
  let hits = 0
  for (let index = 0; index < keys.length; index++) {
    if (ring.lookup(keys[index]!) === marker) hits++
  }
  return hits
}

function passHashring(ring: HashRing, keys: readonly string[], marker: string): number {
  let hits = 0
  for (let index = 0; index < keys.length; index++) {
    if (ring.get(keys[index]!) === marker) hits++
  }
  return hits
}

function passConsistentHash(ring: ConsistentHash, keys: readonly string[], marker: string): number {
  let hits = 0
  for (let index = 0; index < keys.length; index++) {
    if (ring.get(keys[index]!) === marker) hits++
  }
  return hits
}

function passPreferenceLists(ring: Ring, keys: readonly string[]): number {
  let total = 0
  for (let index = 0; index < keys.length; index++) {
    total += ring.preferenceList(keys[index]!, replicaCount).length
  }
  return total
}

function cpuMs(): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

async function timed(run: () => number): Promise<{ ms: number; result: number }> {
  collectGarbage()
  await new Promise((resolve) => setTimeout(resolve, settleMs))
  return timedNow(run)
}

/** For builds, whose own garbage is part of their cost: no collection first. */
function timedNow(run: () => number): { ms: number; result: number } {
  const startMs = cpuMs()
  const result = run()
  return { ms: cpuMs() - startMs, result }
}

// Builds first, while the heap is small: with the million keys alive, a major collection that
// happens to start during a build costs more than the build itself.
const buildConfig = makeConfig(buildNodeCount)
const buildTimes: number[] = []
for (let run = 0; run < buildWarmUpCount + buildRunCount; run++) {
  const { ms } = timedNow(() => new Ring(buildConfig).nodes.length)
  if (run >= buildWarmUpCount) buildTimes.push(ms)
}
const build1000NodesMs = median(buildTimes)
console.log(
  `1000-node build  ${build1000NodesMs.toFixed(1)} ms median (runs ms: ${buildTimes.map((ms) => ms.toFixed(1)).join(' ')})`,
)

const keys = makeKeys(keyCount)
const config = makeConfig(nodeCount)
const meridian = new Ring(config)
const nodeIds = config.nodes.map((node) => node.id)
const hashring = new HashRing(nodeIds)
const consistentHash = new ConsistentHash()
for (const id of nodeIds) consistentHash.add(id)
const marker = meridian.nodes[0]!

// hashring allocates (MD5 digests, an LRU cache) and the others don't; process CPU time also
// counts the garbage collector's background threads, so the two allocation-free rings are
// interleaved first and hashring is timed on its own at the very end.
const meridianPass = () => passMeridian(meridian, keys, marker)
const hashringPass = () => passHashring(hashring, keys, 'node-0')
const consistentHashPass = () => passConsistentHash(consistentHash, keys, 'node-0')
const meridianTimes: number[] = []
const hashringTimes: number[] = []
const consistentHashTimes: number[] = []
meridianPass()
consistentHashPass()
for (let pass = 0; pass < timedPassCount; pass++) {
  meridianTimes.push((await timed(meridianPass)).ms)
  consistentHashTimes.push((await timed(consistentHashPass)).ms)
}
const lookupsPerSecond = (times: readonly number[]) => Math.round(keyCount / (median(times) / 1000))
const reportLookups = (name: string, times: readonly number[]) =>
  console.log(
    `${name.padEnd(16)} ${(lookupsPerSecond(times) / 1e6).toFixed(2)} M lookups/s` +
      `  (passes, CPU ms: ${times.map((ms) => ms.toFixed(0)).join(' ')})`,
  )
reportLookups('meridian', meridianTimes)
reportLookups('consistent-hash', consistentHashTimes)

// Balance over the 1M keys, and over the hash space itself.
const keysPerNode = new Map<string, number>()
for (const key of keys) {
  const id = meridian.lookup(key).id
  keysPerNode.set(id, (keysPerNode.get(id) ?? 0) + 1)
}
const peakToMean = Math.max(...keysPerNode.values()) / (keyCount / nodeCount)
const exactPeakToMean = Math.max(...ownershipShares(meridian).values()) * nodeCount
console.log(
  `peak-to-mean     ${peakToMean.toFixed(4)} over the keys, ${exactPeakToMean.toFixed(4)} of the hash space`,
)

// An 11th node joins: which keys change owner?
const grown = new Ring({
  ...config,
  version: 2,
  nodes: [...config.nodes, { id: `node-${nodeCount}`, region: regions[0]!, zone: zones[1]! }],
})
let movedKeys = 0
let movedElsewhere = 0
for (const key of keys) {
  const before = meridian.lookup(key)
  const after = grown.lookup(key)
  if (before.id !== after.id) {
    movedKeys++
    if (after.id !== `node-${nodeCount}`) movedElsewhere++
  }
}
const movedFraction = movedKeys / keyCount
const idealMovedFraction = 1 / (nodeCount + 1)
console.log(
  `moved fraction   ${movedFraction.toFixed(4)} (ideal ${idealMovedFraction.toFixed(4)}; ${movedElsewhere} keys moved between old nodes)`,
)

const replicaKeys = keys.slice(0, replicaKeyCount)
passPreferenceLists(meridian, replicaKeys)
const replicaTimes: number[] = []
for (let pass = 0; pass < timedPassCount; pass++) {
  replicaTimes.push((await timed(() => passPreferenceLists(meridian, replicaKeys))).ms)
}
const replicaListsPerSecond = Math.round(replicaKeyCount / (median(replicaTimes) / 1000))
console.log(
  `replica lists    ${(replicaListsPerSecond / 1e6).toFixed(2)} M/s (${replicaCount} replicas)`,
)

// hashring last: its garbage would otherwise be collected during the measurements above.
hashringPass()
for (let pass = 0; pass < hashringPassCount; pass++) {
  hashringTimes.push((await timed(hashringPass)).ms)
}
reportLookups('hashring', hashringTimes)

console.log(
  JSON.stringify({
    bench: 'ring',
    nodes: nodeCount,
    keys: keyCount,
    lookupsPerSec: lookupsPerSecond(meridianTimes),
    hashringLookupsPerSec: lookupsPerSecond(hashringTimes),
    consistentHashLookupsPerSec: lookupsPerSecond(consistentHashTimes),
    peakToMean: Number(peakToMean.toFixed(4)),
    movedFraction: Number(movedFraction.toFixed(4)),
    idealMovedFraction: Number(idealMovedFraction.toFixed(4)),
    replicaListsPerSec: replicaListsPerSecond,
    build1000NodesMs: Number(build1000NodesMs.toFixed(2)),
  }),
)
