// Word count: words lowercased, part-of-speech tags (`Fulton/np-tl`) stripped, counted.
import { z } from 'zod'
import { defineJob } from '../job-definition'

/** Calls `visit` with each word of a line: split on whitespace, tag after the last '/' dropped. */
export function forEachWord(line: string, visit: (word: string) => void): void {
  for (const token of line.split(/\s+/)) {
    if (token.length === 0) continue
    const slash = token.lastIndexOf('/')
    const word = (slash > 0 ? token.slice(0, slash) : token).toLowerCase()
    if (word.length > 0) visit(word)
  }
}

export const wordCount = defineJob<Record<string, never>, number, number>({
  name: 'word-count',
  description: 'Counts words (lowercased, part-of-speech tags stripped) over lines of text.',
  params: z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
  map(line, emit) {
    forEachWord(line, (word) => emit(word, 1))
  },
  combine: (left, right) => left + right,
  reduce: (_key, values) => {
    let sum = 0
    for (const value of values) sum += value
    return sum
  },
})
