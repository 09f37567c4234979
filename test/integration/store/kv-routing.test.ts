import { storageKey } from '@meridian/store'
import { describe, expect, it } from 'vitest'
import { kvService, rawItem, regions } from './support'

const bytes = (text: string) => new TextEncoder().encode(text)

describe('KV routing through the ring', () => {
  it('puts each key in exactly the owning region table', async () => {
    const service = kvService()
    const prefix = `routing-${crypto.randomUUID()}`
    const keys = Array.from({ length: 24 }, (_, index) => `${prefix}/${index}`)
    await Promise.all(keys.map((key) => service.put('default', key, bytes(key))))
    const ownersSeen = new Set<string>()
    for (const key of keys) {
      const { owners, storageKey: routed } = await service.owners('default', key)
      expect(owners).toHaveLength(1)
      const owner = owners[0]!.region
      ownersSeen.add(owner)
      for (const region of regions) {
        const item = await rawItem(region, routed)
        if (region === owner) expect(item?.value?.B).toEqual(bytes(key))
        else expect(item).toBeUndefined()
      }
    }
    // 24 keys over 3 regions: every region owns some (the chance of one owning none is ~1e-4).
    expect(ownersSeen.size).toBe(regions.length)
  })

  it('namespaces keys by tenant in storage and in routing', async () => {
    const service = kvService()
    const key = `tenant-${crypto.randomUUID()}`
    await service.put('alpha', key, bytes('a'))
    await service.put('beta', key, bytes('b'))
    expect(new TextDecoder().decode((await service.get('alpha', key)).value)).toBe('a')
    expect(new TextDecoder().decode((await service.get('beta', key)).value)).toBe('b')
    const { owners } = await service.owners('alpha', key)
    expect((await rawItem(owners[0]!.region, storageKey('alpha', key)))?.value?.B).toEqual(
      bytes('a'),
    )
  })
})
