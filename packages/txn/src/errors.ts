// The package's one error hierarchy. Operating errors are typed and carry what the caller
// needs to answer (an HTTP route maps each to problem+json); programmer errors are assertions.
import type { InvalidTransactionProblem } from './operations'
import type { TransactionRecord } from './record'

export class TransactionError extends Error {
  override name = 'TransactionError'
}

export class InvalidTransactionError extends TransactionError {
  override name = 'InvalidTransactionError'
  constructor(readonly problem: InvalidTransactionProblem) {
    super(`${problem.reason}: ${problem.detail}`)
  }
}

/** The id was used before for different operations. */
export class TransactionIdReusedError extends TransactionError {
  override name = 'TransactionIdReusedError'
  constructor(readonly id: string) {
    super(`transaction id ${id} was already used for different operations`)
  }
}

/** Another coordinator holds a live lease on this transaction id. */
export class TransactionInProgressError extends TransactionError {
  override name = 'TransactionInProgressError'
  constructor(readonly record: TransactionRecord) {
    super(`transaction ${record.id} is in progress (lease until ${record.leaseUntilMs})`)
  }
}

/** The decision write's answer was lost and the record could not be read back. */
export class TransactionOutcomeUnknownError extends TransactionError {
  override name = 'TransactionOutcomeUnknownError'
  constructor(
    readonly id: string,
    options?: ErrorOptions,
  ) {
    super(`outcome of transaction ${id} is unknown; read it with GET /txn/${id}`, options)
  }
}

/** Thrown by fault injection to stop a coordinator dead at a named point (tests only). */
export class CoordinatorCrashError extends TransactionError {
  override name = 'CoordinatorCrashError'
  constructor(readonly point: string) {
    super(`coordinator crashed at ${point}`)
  }
}
