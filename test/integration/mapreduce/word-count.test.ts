// Word count, inverted index and gradient descent end to end on the real engines, through
// the local SQS event source emulation and invocation threads. Outputs must equal a
// single-process computation.
import { forEachWord, objectKeys } from '@meridian/mapreduce'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, readOutput, startHarness } from './harness'

let harness: Harness
const tenant = `t${Math.random().toString(36).slice(2, 8)}`

beforeAll(async () => {
  harness = await startHarness({ fault: 'none' })
})
afterAll(() => harness.stop())

function countWords(lines: readonly string[]): Array<[string, number]> {
  const counts = new Map<string, number>()
  for (const line of lines)
    forEachWord(line, (word) => counts.set(word, (counts.get(word) ?? 0) + 1))
  return [...counts].sort(([left], [right]) => (left < right ? -1 : 1))
}

function sortByKey<T>(pairs: Array<[string, T]>): Array<[string, T]> {
  return [...pairs].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
}

const sentences = [
  'The/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd Friday/nr an/at investigation/nn',
  "of/in Atlanta's/np$ recent/jj primary/nn election/nn produced/vbd ``/`` no/at evidence/nn",
  'the jury further said in term-end presentments that the City Executive Committee',
  'had over-all charge of the election , deserves the praise and thanks of the City',
]

describe('MapReduce end to end', () => {
  it('counts words of inline records exactly as one process does', async () => {
    const records = Array.from(
      { length: 400 },
      (_, index) => `${sentences[index % 4]} n${index % 37}`,
    )
    const job = await harness.service.submit(tenant, {
      job: 'word-count',
      input: { records },
      splitBytes: 4096,
      partitions: 3,
    })
    expect(job.mapTasks).toBeGreaterThan(5)
    const done = await harness.waitForJob(tenant, job.id)
    expect(done).toMatchObject({ state: 'SUCCEEDED', output: { parts: 3 } })
    expect(done.counters.recordsIn).toBe(400)
    expect(done.counters.mapTasks).toBe(job.mapTasks)
    expect(done.counters.reduceTasks).toBe(3)
    expect(done.cost.totalUsd).toBeGreaterThan(0)
    expect(sortByKey(await readOutput(harness.service, tenant, job.id))).toEqual(
      countWords(records),
    )
  })

  it('reads every object under a prefix, past the 1,000 keys of one listing page', async () => {
    const prefix = `inputs/${Date.now()}/`
    const lines = Array.from(
      { length: 1005 },
      (_, index) => `${sentences[index % 4]} w${index % 11}`,
    )
    const store = harness.dependencies.blobs
    for (let start = 0; start < lines.length; start += 50) {
      await Promise.all(
        lines
          .slice(start, start + 50)
          .map((line, offset) =>
            store.put(
              `${objectKeys.tenantRoot(tenant)}${prefix}${String(start + offset).padStart(5, '0')}.txt`,
              `${line}\n`,
            ),
          ),
      )
    }
    const job = await harness.service.submit(tenant, {
      job: 'word-count',
      input: { prefix },
      splitBytes: 32 * 1024,
    })
    const done = await harness.waitForJob(tenant, job.id)
    expect(done.state).toBe('SUCCEEDED')
    expect(done.counters.recordsIn).toBe(1005)
    expect(sortByKey(await readOutput(harness.service, tenant, job.id))).toEqual(countWords(lines))
  })

  it('builds an inverted index equal to the single-process one', async () => {
    const records = Array.from(
      { length: 60 },
      (_, index) => `doc${index % 9}\t${sentences[index % 4]}`,
    )
    const job = await harness.service.submit(tenant, {
      job: 'inverted-index',
      input: { records },
      splitBytes: 1024,
    })
    const done = await harness.waitForJob(tenant, job.id)
    expect(done.state).toBe('SUCCEEDED')
    const expected = new Map<string, Set<string>>()
    for (const record of records) {
      const [document, text] = record.split('\t') as [string, string]
      forEachWord(text, (word) =>
        expected.set(word, (expected.get(word) ?? new Set()).add(document)),
      )
    }
    expect(sortByKey(await readOutput(harness.service, tenant, job.id))).toEqual(
      sortByKey([...expected].map(([word, documents]) => [word, [...documents].sort()])),
    )
  })
})
