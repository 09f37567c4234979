// Which lines belong to a byte range [start, end) of an object: those whose first byte
// lies inside it (Hadoop's rule). A line starts at 0 or right after a '\n'. So a reader
// fetches from start - 1 (to see whether a line starts at `start`), skips to the first
// line start ≥ start, and reads on past `end` until the last owned line's '\n' (or the
// end of the object). Every line of an object then belongs to exactly one range,
// whatever the cuts.

const newline = 0x0a

export interface FetchedBytes {
  /** Offset of bytes[0] within the object. */
  offset: number
  bytes: Uint8Array
}

export type OwnedLines =
  | {
      complete: true /** Offsets [from, to) of the owned text within the object. */
      from: number
      to: number
    }
  /** The last owned line runs past the fetched bytes; fetch up to at least `needUntil`. */
  | { complete: false; needUntil: number }

/** Where to start fetching for a range: one byte early, to see a line start at `start`. */
export function fetchStart(start: number): number {
  return start > 0 ? start - 1 : 0
}

export function ownedLines(
  fetched: FetchedBytes,
  range: { start: number; end: number; size: number },
): OwnedLines {
  const { offset, bytes } = fetched
  const fetchedEnd = offset + bytes.length
  let from = range.start
  if (range.start > 0) {
    const index = bytes.indexOf(newline, range.start - 1 - offset)
    if (index < 0) {
      if (fetchedEnd >= range.size) return { complete: true, from: range.size, to: range.size }
      return { complete: false, needUntil: fetchedEnd + 1 }
    }
    from = offset + index + 1
  }
  if (from >= range.end) return { complete: true, from: range.end, to: range.end }
  // The last owned line starts before `end`; it ends at the first '\n' at or after end - 1.
  const last = bytes.indexOf(newline, range.end - 1 - offset)
  if (last < 0) {
    if (fetchedEnd >= range.size) return { complete: true, from, to: range.size }
    return { complete: false, needUntil: fetchedEnd + 1 }
  }
  return { complete: true, from, to: offset + last + 1 }
}

/** Records of a chunk of text: its lines without '\r\n'/'\n', blank lines skipped. */
export function* recordsOf(text: string): Generator<string> {
  let start = 0
  while (start < text.length) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = text.length
    const line =
      text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end)
    if (line.length > 0) yield line
    start = end + 1
  }
}
