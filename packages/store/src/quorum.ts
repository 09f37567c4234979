// Waiting for a quorum: the first `needed` successes of several parallel calls, or the
// failure as soon as enough calls have failed that `needed` can no longer be reached. Calls
// still running when the answer is known carry on; their outcomes are ignored, never left as
// unhandled rejections.

export interface QuorumOutcome<T> {
  /** True when `needed` calls succeeded. */
  reached: boolean
  /** The successes seen when the answer was decided, in the order they arrived. */
  successes: T[]
  /** The failures seen when the answer was decided. */
  failures: unknown[]
}

export function awaitQuorum<T>(
  calls: readonly Promise<T>[],
  needed: number,
): Promise<QuorumOutcome<T>> {
  if (!(Number.isInteger(needed) && needed >= 1 && needed <= calls.length)) {
    throw new RangeError(`a quorum of ${needed} out of ${calls.length} calls`)
  }
  return new Promise((resolve) => {
    const successes: T[] = []
    const failures: unknown[] = []
    let decided = false
    const decide = () => {
      if (decided) return
      if (successes.length >= needed) {
        decided = true
        resolve({ reached: true, successes: [...successes], failures: [...failures] })
      } else if (calls.length - failures.length < needed) {
        decided = true
        resolve({ reached: false, successes: [...successes], failures: [...failures] })
      }
    }
    for (const call of calls) {
      call.then(
        (value) => {
          successes.push(value)
          decide()
        },
        (error: unknown) => {
          failures.push(error)
          decide()
        },
      )
    }
  })
}
