// Inverted index: word → sorted list of documents containing it. A record `doc<TAB>text`
// names its document; otherwise the document is the object the line came from.
import { z } from 'zod'
import { defineJob } from '../job-definition'
import { forEachWord } from './word-count'

export const invertedIndex = defineJob<Record<string, never>, string[], string[]>({
  name: 'inverted-index',
  description: 'Maps each word to the sorted documents containing it.',
  params: z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
  map(line, emit, context) {
    const tab = line.indexOf('\t')
    const document = tab >= 0 ? line.slice(0, tab) : context.sourceKey
    const text = tab >= 0 ? line.slice(tab + 1) : line
    forEachWord(text, (word) => emit(word, [document]))
  },
  combine: (left, right) => mergeSorted(left, right),
  reduce: (_key, values) => values.reduce(mergeSorted, []),
})

/** Union of two sorted, duplicate-free lists, sorted and duplicate-free. */
function mergeSorted(left: string[], right: string[]): string[] {
  const merged: string[] = []
  let i = 0
  let j = 0
  while (i < left.length || j < right.length) {
    const a = left[i]
    const b = right[j]
    let next: string
    if (b === undefined || (a !== undefined && a < b)) next = left[i++]!
    else if (a === undefined || b < a) next = right[j++]!
    else {
      next = a
      i++
      j++
    }
    if (merged[merged.length - 1] !== next) merged.push(next)
  }
  return merged
}
