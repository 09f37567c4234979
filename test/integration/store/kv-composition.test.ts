import { createApp } from '@meridian/api'
import { stageConfig } from '@meridian/aws'
import { describe, expect, it } from 'vitest'
import { kvService } from '../../../functions/kv-service'

describe('the AWS composition of the KV service', () => {
  it('serves /kv and /ring from the linked tables, with the stage regions as the first ring', async () => {
    const app = createApp({ probes: [], kv: kvService() })
    const key = `composition-${crypto.randomUUID()}`
    expect((await app.request(`/kv/${key}`, { method: 'PUT', body: 'x' })).status).toBe(201)
    expect(await (await app.request(`/kv/${key}`)).text()).toBe('x')
    const ring = await (await app.request('/ring')).json()
    expect(ring.state).toBe('stable')
    expect(ring.config.nodes.map((node: { region: string }) => node.region).sort()).toEqual(
      [...stageConfig.storeRegions].sort(),
    )
  })
})
