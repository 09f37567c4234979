// The states of a transaction record and the only moves between them. The commit point is
// the one conditional write into COMMITTED; COMMITTED and ABORTED are absorbing, so once a
// decision is durable nothing (a zombie coordinator, a racing reader, the sweeper) can
// change it.

export const TransactionState = {
  pending: 'PENDING',
  precommitted: 'PRECOMMITTED',
  committed: 'COMMITTED',
  aborted: 'ABORTED',
} as const

export type TransactionState = (typeof TransactionState)[keyof typeof TransactionState]

export const allowedTransitions: Readonly<Record<TransactionState, readonly TransactionState[]>> = {
  PENDING: ['PRECOMMITTED', 'COMMITTED', 'ABORTED'],
  // 3PC: once every participant voted yes and the record says so, the only way out is commit.
  PRECOMMITTED: ['COMMITTED'],
  COMMITTED: [],
  ABORTED: [],
}

export const Protocol = { twoPhase: '2pc', threePhase: '3pc' } as const
export type Protocol = (typeof Protocol)[keyof typeof Protocol]

export function isTransitionAllowed(from: TransactionState, to: TransactionState): boolean {
  return allowedTransitions[from].includes(to)
}

/** An illegal transition is a programmer error: it is asserted, never returned. */
export function assertTransition(
  from: TransactionState,
  to: TransactionState,
  protocol?: Protocol,
): void {
  if (!isTransitionAllowed(from, to)) {
    throw new Error(`illegal transaction transition ${from} -> ${to}`)
  }
  // 2PC never passes through PRECOMMITTED; 3PC never commits straight from PENDING.
  if (protocol === '2pc' && to === 'PRECOMMITTED') {
    throw new Error('illegal transaction transition: 2PC has no PRECOMMITTED state')
  }
  if (protocol === '3pc' && from === 'PENDING' && to === 'COMMITTED') {
    throw new Error('illegal transaction transition: 3PC commits only from PRECOMMITTED')
  }
}

export function isFinal(state: TransactionState): state is 'COMMITTED' | 'ABORTED' {
  return state === 'COMMITTED' || state === 'ABORTED'
}
