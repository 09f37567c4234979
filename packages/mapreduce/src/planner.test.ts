import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fetchStart, ownedLines, recordsOf } from './line-splits'
import { hashPartition } from './partitioner'
import { planMapTasks } from './planner'

const objectsArbitrary = fc.uniqueArray(
  fc.record({ key: fc.stringMatching(/^[a-z]{1,6}$/), size: fc.nat({ max: 20_000 }) }),
  { selector: (object) => object.key, maxLength: 12 },
)

describe('planMapTasks', () => {
  it('covers every byte of every object exactly once, in tasks of at most splitBytes', () => {
    fc.assert(
      fc.property(objectsArbitrary, fc.integer({ min: 1024, max: 9000 }), (objects, splitBytes) => {
        const tasks = planMapTasks(objects, splitBytes)
        const covered = new Map<string, Array<[number, number]>>()
        for (const task of tasks) {
          const bytes = task.segments.reduce((sum, segment) => sum + segment.end - segment.start, 0)
          expect(bytes).toBeGreaterThan(0)
          expect(bytes).toBeLessThanOrEqual(splitBytes)
          for (const segment of task.segments) {
            covered.set(segment.key, [
              ...(covered.get(segment.key) ?? []),
              [segment.start, segment.end],
            ])
          }
        }
        for (const object of objects) {
          const ranges = (covered.get(object.key) ?? []).sort(([left], [right]) => left - right)
          let next = 0
          for (const [start, end] of ranges) {
            expect(start).toBe(next)
            next = end
          }
          expect(next).toBe(object.size)
        }
        const total = objects.reduce((sum, object) => sum + object.size, 0)
        expect(tasks.length).toBe(Math.ceil(total / splitBytes))
      }),
    )
  })

  it('rejects a split size below the minimum', () => {
    expect(() => planMapTasks([{ key: 'a', size: 10 }], 10)).toThrow(RangeError)
  })
})

describe('ownedLines', () => {
  const lineArbitrary = fc.stringMatching(/^[a-zé ]{0,30}$/)

  it('gives every line of an object to exactly one range, whatever the cuts', () => {
    fc.assert(
      fc.property(
        fc.array(lineArbitrary, { maxLength: 40 }),
        fc.boolean(),
        fc.uniqueArray(fc.nat({ max: 2000 }), { maxLength: 8 }),
        (lines, trailingNewline, rawCuts) => {
          const text = lines.join('\n') + (trailingNewline && lines.length > 0 ? '\n' : '')
          const bytes = new TextEncoder().encode(text)
          const size = bytes.length
          const cuts = [
            0,
            ...rawCuts.filter((cut) => cut > 0 && cut < size).sort((a, b) => a - b),
            size,
          ]
          const pieces: string[] = []
          for (let index = 0; index + 1 < cuts.length; index++) {
            const range = { start: cuts[index]!, end: cuts[index + 1]!, size }
            // Fetch a small window first and grow it, as the reader does.
            let until = Math.min(size, range.end + 3)
            const from = fetchStart(range.start)
            for (;;) {
              const owned = ownedLines({ offset: from, bytes: bytes.subarray(from, until) }, range)
              if (owned.complete) {
                pieces.push(new TextDecoder().decode(bytes.subarray(owned.from, owned.to)))
                break
              }
              expect(owned.needUntil).toBeGreaterThan(until)
              until = Math.min(size, until + 5)
            }
          }
          expect([...recordsOf(pieces.join(''))]).toEqual([...recordsOf(text)])
          expect(pieces.join('')).toBe(text)
        },
      ),
    )
  })
})

describe('hashPartition', () => {
  it('places every key in a partition in range, the same one every time', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 300 }), (key, partitions) => {
        const partition = hashPartition(key, partitions)
        expect(partition).toBeGreaterThanOrEqual(0)
        expect(partition).toBeLessThan(partitions)
        expect(hashPartition(key, partitions)).toBe(partition)
      }),
    )
  })
})
