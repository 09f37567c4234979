// Just enough typing for the two CommonJS peers the ring benchmark compares against; neither
// ships types.
declare module 'hashring' {
  export default class HashRing {
    constructor(servers: readonly string[] | Record<string, unknown>, algorithm?: string)
    get(key: string): string
    range(key: string, size?: number, unique?: boolean): string[]
  }
}

declare module 'consistent-hash' {
  export default class ConsistentHash {
    constructor(options?: { range?: number; weight?: number; distribution?: 'random' | 'uniform' })
    add(node: string, weight?: number): this
    get(name: string): string
    get(name: string, count: number): string[]
  }
}
