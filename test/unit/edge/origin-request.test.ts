// The CloudFront origin-request adapter (functions/edge.ts) on events shaped as AWS documents
// them (Lambda@Edge event structure, "Example origin request"), with the home API's GET /ring
// played by a stand-in for the network: it answers with a real ring config and the caller's
// tenant, as the home API does for an authenticated key. Which region owns a key is computed
// with the real ring module, so the test does not assume the routing it checks.
import { edgeConfigHeaders, formatRegionUrls } from '@meridian/edge'
import { ringFromConfig } from '@meridian/ring'
import type { CloudFrontRequest, CloudFrontRequestEvent } from 'aws-lambda'
import { describe, expect, it } from 'vitest'
import { createOriginRequestHandler } from '../../../functions/edge'
import { originRequestEvent } from '../../support/cloudfront-event'

const home = 'us-east-1'
const regionUrls = {
  'us-east-1': 'https://home1234.lambda-url.us-east-1.on.aws/',
  'eu-west-1': 'https://euwest1.lambda-url.eu-west-1.on.aws/',
  'ap-southeast-2': 'https://apse2.lambda-url.ap-southeast-2.on.aws/',
}
const homeHost = 'home1234.lambda-url.us-east-1.on.aws'
const ringConfig = {
  version: 4,
  nodes: Object.keys(regionUrls).map((region) => ({ id: region, region, weight: 1 })),
}
const ring = ringFromConfig(ringConfig)
const keyId = '0123456789abcdef'
const authorization = `Bearer mrd_${keyId}_${'S'.repeat(43)}`

/** An origin-request event as AWS's documented example, for one request. */
function originRequest(
  request: { uri: string; method?: string; authorization?: string },
  customHeaders: Record<string, string> = {
    [edgeConfigHeaders.homeRegion]: home,
    [edgeConfigHeaders.regionUrls]: formatRegionUrls(regionUrls),
  },
): CloudFrontRequestEvent {
  const cloudFrontRequest: CloudFrontRequest = {
    clientIp: '203.0.113.178',
    headers: {
      'x-forwarded-for': [{ key: 'X-Forwarded-For', value: '203.0.113.178' }],
      'user-agent': [{ key: 'User-Agent', value: 'Amazon CloudFront' }],
      via: [
        { key: 'Via', value: '2.0 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)' },
      ],
      host: [{ key: 'Host', value: homeHost }],
      'cache-control': [{ key: 'Cache-Control', value: 'no-cache, cf-no-cache' }],
      ...(request.authorization && {
        authorization: [{ key: 'Authorization', value: request.authorization }],
      }),
    },
    method: request.method ?? 'GET',
    origin: {
      custom: {
        customHeaders: Object.fromEntries(
          Object.entries(customHeaders).map(([name, value]) => [
            name,
            [{ key: name.replace(/(^|-)\w/g, (s) => s.toUpperCase()), value }],
          ]),
        ),
        domainName: homeHost,
        keepaliveTimeout: 5,
        path: '',
        port: 443,
        protocol: 'https',
        readTimeout: 30,
        sslProtocols: ['TLSv1', 'TLSv1.1', 'TLSv1.2'],
      },
    },
    querystring: '',
    uri: request.uri,
  }
  return originRequestEvent(cloudFrontRequest)
}

/** The home API's GET /ring, seen from the network: the ring and, for a valid key, its tenant. */
function homeApi(options: { tenant?: string; version?: number } = {}) {
  const calls: Array<{ url: string; authorization: string | null }> = []
  let version = options.version ?? 4
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input)
    const headers = new Headers(init?.headers)
    calls.push({ url, authorization: headers.get('authorization') })
    if (headers.get('authorization') !== authorization) {
      return new Response('{"status":401}', { status: 401 })
    }
    return Response.json(
      { version, state: 'stable', config: { ...ringConfig, version } },
      { headers: options.tenant ? { 'meridian-tenant': options.tenant } : {} },
    )
  }
  return {
    calls,
    fetch: fetch as typeof globalThis.fetch,
    setVersion: (next: number) => {
      version = next
    },
  }
}

function keyOwnedBy(tenant: string, region: string): string {
  for (let index = 0; ; index++) {
    const key = `key-${index}`
    if (ring.preferenceList(`${tenant}#${key}`, 1)[0]!.region === region) return key
  }
}

describe('the CloudFront origin-request adapter', () => {
  it('routes /kv/:key to its owner region’s function URL host, learning the tenant from the home /ring answer', async () => {
    const api = homeApi({ tenant: 'acme' })
    const handler = createOriginRequestHandler({ fetch: api.fetch })
    const key = keyOwnedBy('acme', 'eu-west-1')
    const request = await handler(originRequest({ uri: `/kv/${key}`, authorization }))
    expect(request.origin?.custom?.domainName).toBe('euwest1.lambda-url.eu-west-1.on.aws')
    expect(request.headers.host).toEqual([
      { key: 'Host', value: 'euwest1.lambda-url.eu-west-1.on.aws' },
    ])
    expect(request.headers['meridian-ring-version']).toEqual([
      { key: 'Meridian-Ring-Version', value: '4' },
    ])
    // One GET /ring to the home API with the caller's own key taught the tenant and the ring.
    expect(api.calls).toEqual([
      { url: 'https://home1234.lambda-url.us-east-1.on.aws/ring', authorization },
    ])
    // The instance remembers both: the next key of the tenant needs no call.
    const other = keyOwnedBy('acme', 'ap-southeast-2')
    const next = await handler(originRequest({ uri: `/kv/${other}`, authorization }))
    expect(next.origin?.custom?.domainName).toBe('apse2.lambda-url.ap-southeast-2.on.aws')
    expect(api.calls).toHaveLength(1)
  })

  it('routes by the tenant’s storage key, not the bare key', async () => {
    const api = homeApi({ tenant: 'globex' })
    const handler = createOriginRequestHandler({ fetch: api.fetch })
    // A key whose owner differs between the tenant's storage key and the bare key.
    let key = ''
    for (let index = 0; ; index++) {
      key = `k${index}`
      const owner = ring.preferenceList(`globex#${key}`, 1)[0]!.region
      if (owner !== home && owner !== ring.preferenceList(key, 1)[0]!.region) break
    }
    const owner = ring.preferenceList(`globex#${key}`, 1)[0]!.region
    const request = await handler(originRequest({ uri: `/kv/${key}`, authorization }))
    expect(request.origin?.custom?.domainName).toBe(
      new URL(regionUrls[owner as keyof typeof regionUrls]).host,
    )
  })

  it('leaves a key the home region owns, and every other route, on the home origin', async () => {
    const api = homeApi({ tenant: 'acme' })
    const handler = createOriginRequestHandler({ fetch: api.fetch })
    const homeKey = keyOwnedBy('acme', home)
    for (const uri of [`/kv/${homeKey}`, '/locks/a/acquire', '/ring', '/jobs', '/health']) {
      const request = await handler(originRequest({ uri, authorization, method: 'POST' }))
      expect(request.origin?.custom?.domainName, uri).toBe(homeHost)
      expect(request.headers.host, uri).toEqual([{ key: 'Host', value: homeHost }])
      expect(request.uri).toBe(uri)
    }
  })

  it('sends a request home when the key is not valid or the ring can’t be loaded with it', async () => {
    const api = homeApi({ tenant: 'acme' })
    const handler = createOriginRequestHandler({ fetch: api.fetch })
    const forged = `Bearer mrd_${'f'.repeat(16)}_${'X'.repeat(43)}`
    const key = keyOwnedBy('acme', 'eu-west-1')
    for (const auth of [undefined, 'Bearer nonsense', forged]) {
      const request = await handler(
        originRequest({ uri: `/kv/${key}`, ...(auth && { authorization: auth }) }),
      )
      expect(request.origin?.custom?.domainName).toBe(homeHost)
    }
    // The forged key was tried once; a repeat within the staleness bound costs no call.
    await handler(originRequest({ uri: `/kv/${key}`, authorization: forged }))
    expect(api.calls.filter((call) => call.authorization === forged)).toHaveLength(1)
  })

  it('reads its config from the origin’s custom headers, and leaves the request alone without them', async () => {
    const api = homeApi({ tenant: 'acme' })
    const handler = createOriginRequestHandler({ fetch: api.fetch })
    const key = keyOwnedBy('acme', 'eu-west-1')
    const unconfigured = await handler(originRequest({ uri: `/kv/${key}`, authorization }, {}))
    expect(unconfigured.origin?.custom?.domainName).toBe(homeHost)
    expect(unconfigured.headers['meridian-ring-version']).toBeUndefined()
    expect(api.calls).toEqual([])
    // Other URLs in the headers: the trigger follows them.
    const moved = { ...regionUrls, 'eu-west-1': 'https://elsewhere.lambda-url.eu-west-1.on.aws' }
    const request = await handler(
      originRequest(
        { uri: `/kv/${key}`, authorization },
        {
          [edgeConfigHeaders.homeRegion]: home,
          [edgeConfigHeaders.regionUrls]: formatRegionUrls(moved),
        },
      ),
    )
    expect(request.origin?.custom?.domainName).toBe('elsewhere.lambda-url.eu-west-1.on.aws')
  })

  it('reloads the ring after the staleness bound and sends the newer version on', async () => {
    let nowMs = 0
    const api = homeApi({ tenant: 'acme', version: 4 })
    const handler = createOriginRequestHandler({
      fetch: api.fetch,
      nowMs: () => nowMs,
      ringStalenessMs: 5_000,
    })
    const key = keyOwnedBy('acme', 'eu-west-1')
    await handler(originRequest({ uri: `/kv/${key}`, authorization }))
    api.setVersion(5)
    nowMs = 4_999
    const fresh = await handler(originRequest({ uri: `/kv/${key}`, authorization }))
    expect(fresh.headers['meridian-ring-version']![0]!.value).toBe('4')
    nowMs = 5_000
    const reloaded = await handler(originRequest({ uri: `/kv/${key}`, authorization }))
    expect(reloaded.headers['meridian-ring-version']![0]!.value).toBe('5')
    expect(api.calls).toHaveLength(2)
  })
})
