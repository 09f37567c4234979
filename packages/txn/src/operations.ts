// What a client asks for: a list of operations on KV keys, and the checks that reject a
// malformed list before any I/O. Limits mirror the KV store's (packages/store/src/limits.ts)
// so a transaction can never stage a value the store itself would refuse.

/** A put or delete applies only if the key's version is this number, or 'absent' (no live value). */
export type ExpectedVersion = number | 'absent'

export type TransactionOperation =
  | {
      kind: 'put'
      key: string
      value: Uint8Array
      contentType: string
      expectedVersion?: ExpectedVersion
    }
  | { kind: 'delete'; key: string; expectedVersion?: ExpectedVersion }
  /** Read-only validation: the key must be at this version when the transaction prepares. */
  | { kind: 'check'; key: string; expectedVersion: ExpectedVersion }

export type OperationKind = TransactionOperation['kind']

export const operationsMax = 100
export const keyLengthMaxBytes = 1024
export const valueSizeMaxBytes = 180 * 1024
export const contentTypeLengthMax = 255
export const transactionIdPattern = /^[A-Za-z0-9_-]{1,64}$/

export type InvalidTransactionReason =
  | 'no-operations'
  | 'too-many-operations'
  | 'duplicate-key'
  | 'invalid-key'
  | 'value-too-large'
  | 'invalid-content-type'
  | 'invalid-version'
  | 'invalid-transaction-id'

export interface InvalidTransactionProblem {
  reason: InvalidTransactionReason
  detail: string
  /** Index of the offending operation, when one is at fault. */
  operationIndex?: number
}

const contentTypePattern =
  /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*;[\x20-\x7e]*)?$/

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function utf8ByteLength(text: string): number {
  return new TextEncoder().encode(text).byteLength
}

function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'a key has at least one byte'
  if (loneSurrogate.test(key)) return 'the key contains a lone surrogate'
  const bytes = utf8ByteLength(key)
  if (bytes > keyLengthMaxBytes) return `${bytes} bytes; at most ${keyLengthMaxBytes}`
  return undefined
}

function versionIsValid(version: ExpectedVersion | undefined): boolean {
  return (
    version === undefined || version === 'absent' || (Number.isSafeInteger(version) && version >= 1)
  )
}

/** The first problem with a transaction, or undefined when it may run. Pure. */
export function validateTransaction(
  operations: readonly TransactionOperation[],
  transactionId?: string,
): InvalidTransactionProblem | undefined {
  if (transactionId !== undefined && !transactionIdPattern.test(transactionId)) {
    return { reason: 'invalid-transaction-id', detail: `ids match ${transactionIdPattern}` }
  }
  if (operations.length === 0) return { reason: 'no-operations', detail: 'at least one operation' }
  if (operations.length > operationsMax) {
    return {
      reason: 'too-many-operations',
      detail: `${operations.length} operations; at most ${operationsMax}`,
    }
  }
  const seen = new Set<string>()
  for (const [operationIndex, operation] of operations.entries()) {
    const problem = keyProblem(operation.key)
    if (problem) return { reason: 'invalid-key', detail: problem, operationIndex }
    if (seen.has(operation.key)) {
      return {
        reason: 'duplicate-key',
        detail: `key ${JSON.stringify(operation.key)} appears twice`,
        operationIndex,
      }
    }
    seen.add(operation.key)
    if (!versionIsValid(operation.expectedVersion)) {
      return {
        reason: 'invalid-version',
        detail: 'a version is a positive integer or "absent"',
        operationIndex,
      }
    }
    if (operation.kind === 'put') {
      if (operation.value.byteLength > valueSizeMaxBytes) {
        return {
          reason: 'value-too-large',
          detail: `${operation.value.byteLength} bytes; at most ${valueSizeMaxBytes}`,
          operationIndex,
        }
      }
      if (
        operation.contentType.length > contentTypeLengthMax ||
        !contentTypePattern.test(operation.contentType)
      ) {
        return { reason: 'invalid-content-type', detail: operation.contentType, operationIndex }
      }
    }
  }
  return undefined
}

/**
 * A stable digest of what a transaction does, stored in its record so a retry under the
 * same id with different operations is told apart from a true retry. FNV-1a over a
 * canonical rendering: not cryptographic, only a guard against client mistakes.
 */
export function operationsFingerprint(operations: readonly TransactionOperation[]): string {
  let high = 0x811c9dc5
  let low = 0x01000193
  const mix = (text: string) => {
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index)
      high = Math.imul(high ^ code, 0x01000193) >>> 0
      low = Math.imul(low ^ code, 0x5bd1e995) >>> 0
    }
  }
  for (const operation of operations) {
    mix(
      `|${operation.kind}|${operation.key.length}:${operation.key}|${operation.expectedVersion ?? ''}|`,
    )
    if (operation.kind === 'put') {
      mix(`${operation.contentType}|${operation.value.byteLength}|`)
      for (const byte of operation.value) {
        high = Math.imul(high ^ byte, 0x01000193) >>> 0
        low = Math.imul(low ^ byte, 0x5bd1e995) >>> 0
      }
    }
  }
  return `${high.toString(16).padStart(8, '0')}${low.toString(16).padStart(8, '0')}`
}
