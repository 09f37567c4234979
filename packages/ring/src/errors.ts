/**
 * The ring's errors. A bad ring config is an operating error (it arrives over PUT /ring or
 * from storage), so it is a typed RingConfigError that callers can turn into a 400 response.
 * Misuse by the calling code, such as asking for a negative number of replicas, is a programmer
 * error and throws a plain RangeError.
 */

export class RingError extends Error {
  override name = 'RingError'
}

/** Why a config was rejected; stable values a caller may branch on. */
export const RingConfigReason = {
  notAnObject: 'not-an-object',
  unknownField: 'unknown-field',
  invalidVersion: 'invalid-version',
  invalidNodes: 'invalid-nodes',
  noNodes: 'no-nodes',
  tooManyNodes: 'too-many-nodes',
  invalidId: 'invalid-id',
  duplicateId: 'duplicate-id',
  invalidRegion: 'invalid-region',
  invalidZone: 'invalid-zone',
  invalidWeight: 'invalid-weight',
  invalidVnodesPerWeight: 'invalid-vnodes-per-weight',
  invalidProbeCount: 'invalid-probe-count',
  tooManyVnodes: 'too-many-vnodes',
} as const
export type RingConfigReason = (typeof RingConfigReason)[keyof typeof RingConfigReason]

export class RingConfigError extends RingError {
  override name = 'RingConfigError'
  readonly reason: RingConfigReason
  /** Where in the config the problem is, e.g. `nodes[3].weight`; empty for the whole config. */
  readonly path: string

  constructor(reason: RingConfigReason, path: string, message: string, options?: ErrorOptions) {
    super(path ? `${path}: ${message}` : message, options)
    this.reason = reason
    this.path = path
  }
}
