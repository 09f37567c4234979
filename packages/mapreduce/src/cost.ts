// A job's cost estimate from its counters, with the price assumptions stated beside it
// (AWS list prices, us-east-1, on-demand, 2025; free tiers ignored). Requests the event
// source mapping makes (ReceiveMessage, DeleteMessage) are counted as two per task.
import type { Counters } from './job-model'

export const priceAssumptions = {
  region: 'us-east-1',
  sqsPerMillionRequestsUsd: 0.4,
  s3PutPerThousandUsd: 0.005,
  s3GetPerThousandUsd: 0.0004,
  dynamodbPerMillionWriteUnitsUsd: 0.625,
  dynamodbPerMillionReadUnitsUsd: 0.125,
  lambdaPerGbSecondUsd: 0.0000166667,
  lambdaPerMillionRequestsUsd: 0.2,
  lambdaMemoryGb: 1,
} as const

export interface CostEstimate {
  sqsUsd: number
  s3Usd: number
  dynamodbUsd: number
  lambdaUsd: number
  lambdaGbSeconds: number
  totalUsd: number
  assumptions: typeof priceAssumptions
}

export function estimateCost(counters: Counters, prices = priceAssumptions): CostEstimate {
  const invocations = counters.mapTasks + counters.reduceTasks + counters.retries
  const lambdaGbSeconds = (counters.invocationMs / 1000) * prices.lambdaMemoryGb
  const sqsUsd = (counters.sqsRequests / 1e6) * prices.sqsPerMillionRequestsUsd
  const s3Usd =
    (counters.s3PutRequests / 1000) * prices.s3PutPerThousandUsd +
    (counters.s3GetRequests / 1000) * prices.s3GetPerThousandUsd
  const dynamodbUsd =
    (counters.dynamodbWriteUnits / 1e6) * prices.dynamodbPerMillionWriteUnitsUsd +
    (counters.dynamodbReadUnits / 1e6) * prices.dynamodbPerMillionReadUnitsUsd
  const lambdaUsd =
    lambdaGbSeconds * prices.lambdaPerGbSecondUsd +
    (invocations / 1e6) * prices.lambdaPerMillionRequestsUsd
  return {
    sqsUsd,
    s3Usd,
    dynamodbUsd,
    lambdaUsd,
    lambdaGbSeconds,
    totalUsd: sqsUsd + s3Usd + dynamodbUsd + lambdaUsd,
    assumptions: prices,
  }
}
