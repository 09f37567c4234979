// Key → reduce partition. FNV-1a over the key's UTF-16 code units: cheap, stable across
// processes and versions (it must be: every map task of a job has to agree).
export function fnv1a(key: string): number {
  let hash = 0x811c9dc5
  for (let index = 0; index < key.length; index++) {
    hash ^= key.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

export function hashPartition(key: string, partitions: number): number {
  return fnv1a(key) % partitions
}
