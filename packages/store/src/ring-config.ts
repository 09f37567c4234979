// The ring config as the store sees it, and the ports it reaches the ring through. The
// shapes match @meridian/ring's config and lookup, which ring-router.ts adapts; keeping a
// port here lets the KV service be tested with any router and keeps ring versions, storage
// and caching out of the pure ring package.

export interface RingNode {
  id: string
  /** The region whose store table holds the keys this node owns. */
  region: string
  zone?: string
  weight: number
}

/** A serialisable ring config; `version` increases by one with every stored change. */
/** A ring config without its version: what an administrator submits. */
export interface RingLayout {
  readonly nodes: readonly RingNode[]
  /** Parameters of the ring itself (vnodes, probes), passed through to the router factory. */
  readonly [parameter: string]: unknown
}

export interface RingConfig extends RingLayout {
  readonly version: number
  /** Present while the ring migrates from `migration.from` to this layout (ring-migration.ts). */
  readonly migration?: RingMigrationState
}

/**
 * A running migration, stored with the target config. In phase 'gating' handlers still
 * route by `from` while every store table's gate is raised to this config's version; in
 * phase 'moving' they route by the new layout and pull each moving key from its old owner.
 */
export interface RingMigrationState {
  readonly phase: 'gating' | 'moving'
  /** The config keys move from (no migration of its own). */
  readonly from: RingConfig
  /** The ring version every table's gate is raised to (the version that started 'gating'). */
  readonly gateVersion: number
  /** Parallel scan segments per source table: one range task each. */
  readonly segments: number
  /** The regions whose tables lose keys: the source tables the range tasks scan. */
  readonly sourceRegions: readonly string[]
  readonly startedAtMs: number
}

/** A config's layout alone: what a router is built from. */
export function layoutOf(config: RingLayout): RingLayout {
  const { version: _version, migration: _migration, ...layout } = config as RingConfig
  return layout
}

/** Routes a key to its nodes; built from one ring config and never changed afterwards. */
export interface KeyRouter {
  /** Up to `replicas` distinct nodes in preference order (all nodes when there are fewer). */
  preferenceList(routingKey: string, replicas: number): readonly RingNode[]
}

export type KeyRouterFactory = (config: RingConfig) => KeyRouter

/**
 * Checks a config the way the ring does and writes its defaults out, so a stored config
 * keeps routing the same even if a default changes later; throws on an invalid config.
 */
export type RingConfigResolver = (config: RingLayout) => RingLayout

/** Where the current ring config is stored (the coordination table's `ring`/`config` item). */
export interface RingConfigStore {
  /** The stored config, read strongly consistently; undefined when none was ever stored. */
  load(): Promise<RingConfig | undefined>
  /**
   * Stores `config` in one conditional write if the stored version is `expectedVersion`
   * ('absent': none stored). The stored config gets version expectedVersion + 1 (or 1);
   * throws RingVersionMismatchError otherwise.
   */
  replace(expectedVersion: number | 'absent', config: RingLayout): Promise<RingConfig>
}

/** The ring a fresh deployment starts with: one node per store region, weight 1. */
export function initialRingConfig(regions: readonly string[]): RingLayout {
  return { nodes: regions.map((region) => ({ id: region, region, weight: 1 })) }
}
