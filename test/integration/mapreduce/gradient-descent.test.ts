// Linear regression by batch gradient descent, one MapReduce round per step, on the real
// engines: on a seeded synthetic data set it must reach the least-squares solution
// (normal equations, solved in this process) within 1e-6 per weight.
import type { LinearRegressionModel } from '@meridian/mapreduce'
import { seededRandom } from '@meridian/seeded-random'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type Harness, readOutput, startHarness } from './harness'

let harness: Harness
const tenant = `g${Math.random().toString(36).slice(2, 8)}`

beforeAll(async () => {
  harness = await startHarness({ fault: 'none' })
})
afterAll(() => harness.stop())

function leastSquares(rows: number[][], targets: number[]): number[] {
  const width = rows[0]!.length
  const a = Array.from({ length: width }, (_, i) =>
    Array.from({ length: width + 1 }, (_, j) =>
      rows.reduce((sum, row, k) => sum + row[i]! * (j < width ? row[j]! : targets[k]!), 0),
    ),
  )
  for (let column = 0; column < width; column++) {
    let pivot = column
    for (let row = column + 1; row < width; row++)
      if (Math.abs(a[row]![column]!) > Math.abs(a[pivot]![column]!)) pivot = row
    ;[a[column], a[pivot]] = [a[pivot]!, a[column]!]
    for (let row = 0; row < width; row++) {
      if (row === column) continue
      const factor = a[row]![column]! / a[column]![column]!
      for (let j = column; j <= width; j++) a[row]![j]! -= factor * a[column]![j]!
    }
  }
  return a.map((row, index) => row[width]! / row[index]!)
}

it('reaches the least-squares solution of a seeded synthetic data set within 1e-6', async () => {
  const random = seededRandom(7)
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
  const truth = [2, -3, 0.5]
  const rows: number[][] = []
  const targets: number[] = []
  const records: string[] = []
  for (let index = 0; index < 600; index++) {
    const x = truth.map(() => normal())
    const y = x.reduce((sum, value, i) => sum + value * truth[i]!, 0) + 1.5 + 0.1 * normal()
    rows.push([...x, 1])
    targets.push(y)
    records.push([y, ...x].join(','))
  }
  const job = await harness.service.submit(tenant, {
    job: 'linear-regression',
    params: { features: 3, iterations: 40, stepSize: 1, convergenceTol: 1e-9 },
    input: { records },
    splitBytes: 8 * 1024,
  })
  expect(job.mapTasks).toBeGreaterThan(1)
  const done = await harness.waitForJob(tenant, job.id, 50_000)
  expect(done.state).toBe('SUCCEEDED')
  const model = done.model as LinearRegressionModel
  const solution = leastSquares(rows, targets)
  for (const [index, weight] of model.weights.entries())
    expect(Math.abs(weight - solution[index]!)).toBeLessThan(1e-6)
  const output = Object.fromEntries(await readOutput(harness.service, tenant, job.id))
  expect(output.weights).toEqual(model.weights)
  expect(output.converged).toBe(true)
  expect(done.round).toBeLessThan(40)
})
