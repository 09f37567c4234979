import { awsEngineProbes, createApp, problemContentType } from '@meridian/api'
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
