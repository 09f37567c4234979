// `npm run bench -- edge`: KV GET/PUT from clients near each region, through (a) one API in
// the home region (today's deployment) and (b) an edge near the client that forwards each
// key to the API in its owner region, in the same run, on the real app and DynamoDB Local.
//
// The network is modelled per link, as AWS's inter-region round trips are (about): us-east-1
// to eu-west-1 70 ms, us-east-1 to ap-southeast-2 200 ms, eu-west-1 to ap-southeast-2
// 260 ms, and 5 ms within a region (client to its nearest edge or API, edge to the API in
// its own region, an API to the table in its own region). HTTP links add their round trip
// per request (in-process fetch to each API); DynamoDB links go through a fault proxy per
// (API location, table region) pair with that round trip, so every store call pays it.
// API keys and the ring config are read directly (both are cached by each API and edge,
// warmed before measuring). Each location's client works on keys its own region owns, one
// request at a time, alternating PUT and GET (REQUESTS per location, 40 unless set).
//
// What this shows is the routing: how many long round trips a request makes each way. It
// does not model Lambda cold starts, CloudFront's own hop, or TLS set-up. Last line:
// {"bench":"edge","homeOnlyP50Ms":{…},"edgeP50Ms":{…},"speedupNonHome":…}
// speedupNonHome is the smaller of the two non-home regions' homeOnly/edge p50 ratios.
import '@meridian/local/process-defaults'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { FaultProxy } from '../test/support/fault-proxy'

process.env.MERIDIAN_RATE_LIMIT_PER_SECOND ??= '100000'
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR'
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true'

const requests = Number(process.env.REQUESTS ?? 40)
const sameRegionMs = 5
const rttBetween: Record<string, number> = {
  'eu-west-1|us-east-1': 70,
  'ap-southeast-2|us-east-1': 200,
  'ap-southeast-2|eu-west-1': 260,
}
const rtt = (a: string, b: string) =>
  a === b ? sameRegionMs : (rttBetween[[a, b].sort().join('|')] ?? 150)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}
const round = (number: number, digits = 1) => Math.round(number * 10 ** digits) / 10 ** digits

const { freePort, startLocalRuntime } = await import('@meridian/local')
const dynamodbPort = await freePort()
const runtime = await startLocalRuntime({ port: 0, concurrency: 1, dynamodbPort })
const { linkedName } = await import('@meridian/aws/linked')
const aws = await import('@meridian/aws')
const store = await import('@meridian/store')
const api = await import('@meridian/api')
const { createEdgeApp } = await import('@meridian/edge')
const regions = aws.stageConfig.storeRegions
const home = aws.stageConfig.homeRegion
const proxies: FaultProxy[] = []
try {
  const coordination = linkedName(aws.coordinationTable.resource)
  const keyStore = new api.DynamoApiKeyStore(aws.dynamoClient(), coordination)

  /** The real app as deployed in `location`: its store calls pay that location's round trips. */
  async function apiIn(location: string) {
    const stores: Record<string, InstanceType<typeof store.DynamoRegionalStore>> = {}
    for (const region of regions) {
      const proxy = await FaultProxy.start({ target: dynamodbPort })
      proxy.setRoundTrip(rtt(location, region))
      proxies.push(proxy)
      stores[region] = new store.DynamoRegionalStore({
        client: new DynamoDBClient({ region, endpoint: proxy.endpoint }),
        tableName: linkedName(aws.storeTableResource(region)),
      })
    }
    const kv = store.createKvService({
      stores,
      ringStore: new store.DynamoRingConfigStore({
        client: aws.dynamoClient(),
        tableName: coordination,
      }),
    })
    return api.createApp({
      probes: [],
      servedRegion: location,
      security: {
        keyStore,
        authenticator: new api.Authenticator({
          store: keyStore,
          bootstrapAdminKey: runtime.adminApiKey,
        }),
      },
      kv,
      ringMigrations: new store.RingMigrationService({
        kv,
        ringStore: new store.DynamoRingConfigStore({
          client: aws.dynamoClient(),
          tableName: coordination,
        }),
        queue: { send: async () => undefined },
        log: new store.DynamoMigrationLog({ client: aws.dynamoClient(), tableName: coordination }),
      }),
    })
  }
  const apis = Object.fromEntries(
    await Promise.all(regions.map(async (region) => [region, await apiIn(region)] as const)),
  )
  /** An HTTP hop from `from` to the API in `to`: its round trip, then the request. */
  const hop = (from: string) => async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input))
    const to = url.hostname.split('.')[1]!
    await sleep(rtt(from, to))
    return apis[to]!.request(`${url.pathname}${url.search}`, init)
  }
  const edges = Object.fromEntries(
    regions.map((location) => [
      location,
      createEdgeApp({
        homeRegion: home,
        regionUrls: Object.fromEntries(
          regions.map((region) => [region, `http://api.${region}.bench`]),
        ),
        fetch: hop(location) as typeof fetch,
      }),
    ]),
  )

  const created = await fetch(`${runtime.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${runtime.adminApiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tenant: 'edge-bench', scopes: ['kv:read', 'kv:write'], name: 'bench' }),
  })
  const { key } = (await created.json()) as { key: string }
  const headers = { authorization: `Bearer ${key}` }
  const tenant = 'edge-bench'

  // Keys each region owns (under the stored ring), a few per location.
  const ringStatus = (await (await apis[home]!.request('/ring', { headers })).json()) as {
    config: unknown
  }
  const { ringFromConfig } = await import('@meridian/ring')
  const ring = ringFromConfig(ringStatus.config)
  const keysOf = Object.fromEntries(regions.map((region) => [region, [] as string[]]))
  for (let index = 0; regions.some((region) => keysOf[region]!.length < 8); index++) {
    const name = `edge-${index}`
    const owner = ring.preferenceList(`${tenant}#${name}`, 1)[0]!.region
    if (keysOf[owner]!.length < 8) keysOf[owner]!.push(name)
  }

  type Send = (path: string, init?: RequestInit) => Promise<Response>
  /** A client in `location` sending through `send`; latencies of `count` requests. */
  async function client(location: string, send: Send, count: number) {
    const latencies: number[] = []
    const names = keysOf[location]!
    for (let index = 0; index < count; index++) {
      // A PUT, then a GET of the key it wrote.
      const name = names[Math.floor(index / 2) % names.length]!
      const init: RequestInit =
        index % 2 === 0 ? { method: 'PUT', headers, body: `v${index}` } : { headers }
      const started = performance.now()
      const answer = await send(`/kv/${name}`, init)
      await answer.arrayBuffer()
      latencies.push(performance.now() - started)
      if (!answer.ok) throw new Error(`${location}: ${answer.status} for ${name}`)
    }
    return latencies
  }
  const homeOnly =
    (location: string): Send =>
    async (path, init) => {
      await sleep(rtt(location, home))
      return apis[home]!.request(path, init)
    }
  const viaEdge =
    (location: string): Send =>
    async (path, init) => {
      await sleep(sameRegionMs)
      return edges[location]!.request(path, init)
    }

  // Warm up: caches (keys, tenants, rings), connections, JIT.
  await Promise.all(
    regions.flatMap((location) => [
      client(location, homeOnly(location), 6),
      client(location, viaEdge(location), 6),
    ]),
  )
  const homeOnlyP50Ms: Record<string, number> = {}
  const edgeP50Ms: Record<string, number> = {}
  // Both setups in the same run, each location's clients at once, setups one after the other.
  const homeResults = await Promise.all(
    regions.map((location) => client(location, homeOnly(location), requests)),
  )
  const edgeResults = await Promise.all(
    regions.map((location) => client(location, viaEdge(location), requests)),
  )
  regions.forEach((location, index) => {
    homeOnlyP50Ms[location] = round(median(homeResults[index]!))
    edgeP50Ms[location] = round(median(edgeResults[index]!))
  })
  const nonHome = regions.filter((region) => region !== home)
  const speedupNonHome = Math.min(
    ...nonHome.map((region) => homeOnlyP50Ms[region]! / edgeP50Ms[region]!),
  )
  for (const region of regions) {
    console.log(
      `${region}: home-only p50 ${homeOnlyP50Ms[region]} ms, edge p50 ${edgeP50Ms[region]} ms (${round(homeOnlyP50Ms[region]! / edgeP50Ms[region]!, 2)}x)`,
    )
  }
  console.log(
    JSON.stringify({
      bench: 'edge',
      homeOnlyP50Ms,
      edgeP50Ms,
      speedupNonHome: round(speedupNonHome, 2),
    }),
  )
} finally {
  for (const proxy of proxies) await proxy.close()
  await runtime.stop()
}
