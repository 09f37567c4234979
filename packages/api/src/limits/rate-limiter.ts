// A rate limit per API key that holds across every Lambda instance without a DynamoDB
// write per request. The shared count is a fixed one-second window in the coordination
// table (pk `rate#<keyId>`, sk `<epochSecond>`, TTL a minute later). An instance doesn't
// add 1 per request: it leases a batch of tokens from the window with one conditional ADD
// (`count + batch <= max`) and spends them locally; when less than a batch is left it
// leases the rest. Concurrent requests of one key on one instance share a single lease
// call, and once the window is known to be full the instance refuses locally until the
// second ends, so a key hammering past its limit costs no DynamoDB call either.
//
// Tolerance across instances: the shared count never exceeds the limit, so all instances
// together never admit more than `requestsPerSecondMax` requests of a key in one window
// (of each instance's clock: instances whose clocks disagree by d ms may count a request
// near a second's edge in neighbouring windows, as any fixed window does). They may admit
// fewer: tokens an instance leased and did not spend before the second ended are lost, at
// most `batch − 1` per instance holding a lease, so with n busy instances the admitted
// rate is at least `max − n × (batch − 1)`. The batch is a tenth of the limit (at least
// 1, at most `leaseBatchMax`), so one instance alone can always use its key's whole limit
// and the DynamoDB cost is one write per batch instead of one per request.
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'

export interface RateLimiter {
  /** Counts one request; false when the key's window is full. */
  tryConsume(keyId: string, nowMs: number): Promise<boolean>
}

/** Where the shared per-window counts live: one conditional write leases tokens. */
export interface RateWindowCounter {
  /**
   * Adds `tokens` to the key's count in `second` if the sum stays within `max`. Returns
   * the tokens granted (`tokens`, or 0), and the count seen when the grant was refused.
   */
  lease(
    keyId: string,
    second: number,
    tokens: number,
    max: number,
  ): Promise<{ granted: number; countSeen?: number }>
}

export class DynamoRateWindowCounter implements RateWindowCounter {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async lease(keyId: string, second: number, tokens: number, max: number) {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: `rate#${keyId}` }, sk: { S: String(second) } },
          UpdateExpression: 'ADD #count :tokens SET expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(#count) OR #count <= :room',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: {
            ':tokens': { N: String(tokens) },
            ':room': { N: String(max - tokens) },
            ':expiresAt': { N: String(second + 60) },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      return { granted: tokens }
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        return { granted: 0, countSeen: Number(error.Item?.count?.N ?? max) }
      }
      throw error
    }
  }
}

/** Lease attempts per refill; each refused one returns the count, so the next asks for what is left. */
const leaseAttemptsMax = 3
/** The largest batch an instance leases at once, whatever the limit. */
export const leaseBatchMax = 1_000
/** Keys whose lease state an instance keeps (one window each); the oldest go first. */
const keysTrackedMax = 10_000

interface WindowState {
  second: number
  tokens: number
  full: boolean
  refill?: Promise<void>
}

export class LeasingRateLimiter implements RateLimiter {
  readonly batch: number
  private readonly windows = new Map<string, WindowState>()

  constructor(
    private readonly counter: RateWindowCounter,
    readonly requestsPerSecondMax: number,
  ) {
    if (!Number.isInteger(requestsPerSecondMax) || requestsPerSecondMax < 1)
      throw new RangeError(
        `requestsPerSecondMax must be a positive integer: ${requestsPerSecondMax}`,
      )
    this.batch = Math.min(leaseBatchMax, Math.max(1, Math.floor(requestsPerSecondMax / 10)))
  }

  async tryConsume(keyId: string, nowMs: number): Promise<boolean> {
    const second = Math.floor(nowMs / 1000)
    // Each refill grants a batch (at most max / batch of them fit in a window), marks the
    // window full, or lost every race; a request waits through at most that many.
    const refillsMax = Math.ceil(this.requestsPerSecondMax / this.batch) + leaseAttemptsMax
    for (let refills = 0; refills <= refillsMax; refills++) {
      const window = this.windowOf(keyId, second)
      if (window.tokens > 0) {
        window.tokens--
        return true
      }
      if (window.full) return false
      window.refill ??= this.refill(keyId, window).finally(() => {
        window.refill = undefined
      })
      await window.refill
    }
    return false
  }

  private windowOf(keyId: string, second: number): WindowState {
    const current = this.windows.get(keyId)
    if (current && current.second === second) return current
    const fresh: WindowState = { second, tokens: 0, full: false }
    this.windows.delete(keyId)
    if (this.windows.size >= keysTrackedMax) {
      const oldest = this.windows.keys().next().value
      if (oldest !== undefined) this.windows.delete(oldest)
    }
    this.windows.set(keyId, fresh)
    return fresh
  }

  private async refill(keyId: string, window: WindowState): Promise<void> {
    const max = this.requestsPerSecondMax
    let tokens = this.batch
    for (let attempt = 0; attempt < leaseAttemptsMax; attempt++) {
      const { granted, countSeen } = await this.counter.lease(keyId, window.second, tokens, max)
      if (granted > 0) {
        window.tokens += granted
        return
      }
      const left = max - (countSeen ?? max)
      if (left <= 0) {
        window.full = true
        return
      }
      // Lost a race or less than a batch is left: ask for what the count showed as left.
      tokens = Math.min(tokens, left)
    }
  }
}
