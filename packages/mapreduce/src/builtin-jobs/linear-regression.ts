// Linear regression by batch gradient descent, one MapReduce round per step. Map: the
// partial gradient of the squared loss over its split, with the round's weights. Reduce:
// the sum. Iterate: w ← w − stepSize·(g/n + regParam·w), until the relative change of w is
// under convergenceTol or `iterations` rounds ran. Knobs follow Spark MLlib's SGD.
// Sampling for miniBatchFraction < 1 hashes the record with the seed and round, so a
// re-run of a map task samples the same records (task effects stay deterministic).
import { z } from 'zod'
import { defineJob } from '../job-definition'
import { fnv1a } from '../partitioner'

export const linearRegressionParams = z
  .object({
    features: z.number().int().min(1).max(1000),
    iterations: z.number().int().min(1).max(1000).default(100),
    stepSize: z.number().positive().max(100).default(1),
    convergenceTol: z.number().min(0).max(1).default(1e-6),
    regParam: z.number().min(0).default(0),
    miniBatchFraction: z.number().gt(0).max(1).default(1),
    intercept: z.boolean().default(true),
    seed: z.number().int().default(42),
  })
  .strict()
export type LinearRegressionParams = z.infer<typeof linearRegressionParams>

export interface LinearRegressionModel {
  /** Feature weights, then the intercept when fitted. */
  weights: number[]
  /** Mean squared error / 2 over the rows of the last round, with the weights before its step. */
  loss: number | null
}

const gradientKey = 'gradient'

/** `y,x1,…,xd` or `{"x":[…],"y":…}` → [x (with a trailing 1 for the intercept), y]. */
export function parseRow(line: string, params: LinearRegressionParams): [number[], number] {
  let x: number[]
  let y: number
  if (line.startsWith('{')) {
    const row = JSON.parse(line) as { x: number[]; y: number }
    x = row.x
    y = row.y
  } else {
    const values = line.split(',').map(Number)
    y = values[0] ?? Number.NaN
    x = values.slice(1)
  }
  if (
    x.length !== params.features ||
    !Number.isFinite(y) ||
    x.some((value) => !Number.isFinite(value))
  ) {
    throw new Error(
      `a row needs a target and ${params.features} finite features: ${line.slice(0, 80)}`,
    )
  }
  return [params.intercept ? [...x, 1] : x, y]
}

export const linearRegression = defineJob<
  LinearRegressionParams,
  number[],
  number[],
  LinearRegressionModel
>({
  name: 'linear-regression',
  description: 'Least-squares linear regression by batch gradient descent (iterative).',
  params: linearRegressionParams as unknown as z.ZodType<LinearRegressionParams>,
  partitions: () => 1,
  map(line, emit, { params, model, round }) {
    if (params.miniBatchFraction < 1) {
      const draw = fnv1a(`${params.seed}:${round}:${line}`) / 2 ** 32
      if (draw >= params.miniBatchFraction) return
    }
    const [x, y] = parseRow(line, params)
    let prediction = 0
    for (let index = 0; index < x.length; index++)
      prediction += (model.weights[index] ?? 0) * x[index]!
    const error = prediction - y
    // [gradient…, squared-error sum, rows]
    const partial = x.map((value) => error * value)
    partial.push(error * error, 1)
    emit(gradientKey, partial)
  },
  combine: addVectors,
  reduce: (_key, values) => values.reduce(addVectors),
  iterate: {
    initialModel: (params) => ({
      weights: new Array(params.features + (params.intercept ? 1 : 0)).fill(0),
      loss: null,
    }),
    roundsMax: (params) => params.iterations,
    next({ params, model, outputs }) {
      const sum = outputs.find(([key]) => key === gradientKey)?.[1]
      const rows = sum?.[sum.length - 1] ?? 0
      if (!sum || rows === 0) return { model, converged: true }
      const width = model.weights.length
      const weights = model.weights.map((weight, index) => {
        const isIntercept = params.intercept && index === width - 1
        const regularization = isIntercept ? 0 : params.regParam * weight
        return weight - params.stepSize * (sum[index]! / rows + regularization)
      })
      const change = norm(weights.map((weight, index) => weight - model.weights[index]!))
      const converged = change < params.convergenceTol * Math.max(norm(weights), 1)
      return { model: { weights, loss: sum[width]! / rows / 2 }, converged }
    },
  },
})

function addVectors(left: number[], right: number[]): number[] {
  const sum = left.slice()
  for (let index = 0; index < right.length; index++) sum[index] = (sum[index] ?? 0) + right[index]!
  return sum
}

function norm(vector: number[]): number {
  return Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0))
}
