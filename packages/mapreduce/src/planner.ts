// Input planning, pure: objects (key, size) become map tasks of about `splitBytes` each.
// A large object is cut into byte ranges; small objects are packed together. Cuts are
// byte offsets, not line positions: the reader of a range owns exactly the lines that
// start inside it (see line-splits.ts), so planning needs sizes only, never content.

export interface InputObject {
  key: string
  size: number
}

/** Bytes [start, end) of one object. */
export interface Segment {
  key: string
  start: number
  end: number
  /** The object's size, so the reader knows where the last line may end. */
  size: number
}

export interface MapTaskPlan {
  segments: Segment[]
}

export const splitBytesMin = 1024
export const mapTasksMax = 10_000

export function planMapTasks(objects: readonly InputObject[], splitBytes: number): MapTaskPlan[] {
  if (!Number.isInteger(splitBytes) || splitBytes < splitBytesMin) {
    throw new RangeError(`splitBytes must be an integer ≥ ${splitBytesMin}, got ${splitBytes}`)
  }
  const sorted = [...objects].filter((object) => object.size > 0).sort(compareKeys)
  const tasks: MapTaskPlan[] = []
  let current: Segment[] = []
  let currentBytes = 0
  const flush = () => {
    if (current.length > 0) tasks.push({ segments: current })
    current = []
    currentBytes = 0
  }
  for (const object of sorted) {
    let start = 0
    while (start < object.size) {
      const room = splitBytes - currentBytes
      const end = Math.min(object.size, start + room)
      current.push({ key: object.key, start, end, size: object.size })
      currentBytes += end - start
      start = end
      if (currentBytes >= splitBytes) flush()
    }
  }
  flush()
  return tasks
}

function compareKeys(left: InputObject, right: InputObject): number {
  return left.key < right.key ? -1 : left.key > right.key ? 1 : 0
}
