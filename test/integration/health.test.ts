import {
  awsEngineProbes,
  createApp,
  type EngineProbe,
  problemContentType,
  sharedProbeRound,
} from '@meridian/api'
import { FailureDetector } from '@meridian/store'
import { describe, expect, it } from 'vitest'

describe('GET /health', () => {
  it('reports every engine reachable', async () => {
    const app = createApp({ probes: awsEngineProbes() })
    const response = await app.request('/health')
    expect(response.status).toBe(200)
    const body = await response.json()
    expect(body).toMatchObject({
      status: 'ok',
      engines: { dynamodb: { ok: true }, sqs: { ok: true }, s3: { ok: true } },
    })
  })

  it("lists each store region as this instance's failure detector sees it, staying 200 with one suspected", async () => {
    const detector = new FailureDetector({ failuresToSuspect: 1 })
    const names = ['us-east-1', 'eu-west-1', 'ap-southeast-2']
    detector.failed('eu-west-1', new Error('connect ETIMEDOUT'))
    const app = createApp({ probes: awsEngineProbes(), regions: { detector, names } })
    const response = await app.request('/health')
    expect(response.status).toBe(200)
    const body = await response.json()
    expect(body.regions).toEqual([
      { region: 'us-east-1', state: 'trusted', since: expect.any(String) },
      { region: 'eu-west-1', state: 'suspected', since: expect.any(String) },
      { region: 'ap-southeast-2', state: 'trusted', since: expect.any(String) },
    ])
  })

  it('makes one round of AWS calls for a flood of concurrent and repeated requests', async () => {
    let checks = 0
    const counted: EngineProbe[] = awsEngineProbes().map((probe) => ({
      engine: probe.engine,
      check: (signal) => {
        checks++
        return probe.check(signal)
      },
    }))
    const app = createApp({ probes: counted })
    const concurrent = await Promise.all(Array.from({ length: 50 }, () => app.request('/health')))
    for (const response of concurrent) expect(response.status).toBe(200)
    for (let index = 0; index < 20; index++) expect((await app.request('/health')).status).toBe(200)
    expect(checks).toBe(counted.length)
  })

  it('probes again once the shared round is older than the cache period', async () => {
    let checks = 0
    let nowMs = 0
    const probe: EngineProbe = { engine: 'x', check: async () => void checks++ }
    const check = sharedProbeRound([probe], 3_000, () => nowMs)
    await check()
    nowMs = 2_999
    expect((await check()).checkedAgoMs).toBe(2_999)
    expect(checks).toBe(1)
    nowMs = 3_000
    expect((await check()).checkedAgoMs).toBe(0)
    expect(checks).toBe(2)
  })

  it('answers 503 and names the engine that is down', async () => {
    const down = {
      engine: 'sqs',
      check: async () => Promise.reject(new Error('connection refused')),
    }
    const app = createApp({
      probes: [...awsEngineProbes().filter((p) => p.engine !== 'sqs'), down],
    })
    const response = await app.request('/health')
    expect(response.status).toBe(503)
    expect(await response.json()).toMatchObject({
      status: 'unavailable',
      engines: {
        dynamodb: { ok: true },
        s3: { ok: true },
        sqs: { ok: false, error: 'connection refused' },
      },
    })
  })

  it('answers an unknown route with a problem+json 404', async () => {
    const response = await createApp({ probes: [] }).request('/nowhere')
    expect(response.status).toBe(404)
    expect(response.headers.get('content-type')).toBe(problemContentType)
    expect(await response.json()).toMatchObject({
      type: 'urn:meridian:problem:not-found',
      status: 404,
    })
  })

  it('turns an unexpected error into a problem+json 500 without leaking it', async () => {
    const logged: unknown[] = []
    const broken = { engine: 'x', check: async () => {} }
    const app = createApp({ probes: [broken], logError: (error) => logged.push(error) })
    app.get('/boom', () => {
      throw new Error('secret internals')
    })
    const response = await app.request('/boom')
    expect(response.status).toBe(500)
    const text = await response.text()
    expect(text).not.toContain('secret internals')
    expect(JSON.parse(text)).toMatchObject({ type: 'urn:meridian:problem:internal', status: 500 })
    expect(logged).toHaveLength(1)
  })
})
