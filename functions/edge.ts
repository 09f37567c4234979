// The deployed edge: a Lambda@Edge origin-request trigger on the CloudFront distribution
// (infra/edge.ts). CloudFront calls it before it sends a request to the origin, which is the
// home region's API; the trigger only chooses the origin, by the routing packages/edge
// shares with the local edge (EdgeRouter), and CloudFront forwards the request itself:
// - `/kv/:key` whose owner is another region: the origin's domain (and the Host header,
//   which a Lambda function URL checks) become that region's function URL host;
// - everything else: the origin is left as it is (the home API);
// - every request carries `meridian-ring-version`, the ring version it was routed by.
// Configuration comes from the origin's custom headers (Lambda@Edge has no environment):
// packages/edge edge-config.ts. The instance keeps the ring and the tenants it learned across
// invocations; it never sees an answer, so it learns an unknown key's tenant from the home
// API's answer to GET /ring made with that key, and reloads the ring every staleness bound.
import { type EdgeConfig, EdgeRouter, edgeConfigHeaders, parseEdgeConfig } from '@meridian/edge'
import type { CloudFrontHeaders, CloudFrontRequest, CloudFrontRequestEvent } from 'aws-lambda'

export interface OriginRequestOptions {
  fetch?: typeof fetch
  nowMs?: () => number
  ringStalenessMs?: number
}

function header(headers: CloudFrontHeaders | undefined, name: string): string | undefined {
  return headers?.[name]?.[0]?.value
}

export function createOriginRequestHandler(options: OriginRequestOptions = {}) {
  let current: { signature: string; config: EdgeConfig; router: EdgeRouter } | undefined

  /** The router for this config; a new one if the distribution's config changed. */
  function routerFor(config: EdgeConfig, signature: string): EdgeRouter {
    if (current?.signature !== signature) {
      const router = new EdgeRouter({
        homeRegion: config.homeRegion,
        homeUrl: config.regionUrls[config.homeRegion]!,
        regions: Object.keys(config.regionUrls),
        learnUnknownTenants: true,
        ...(options.fetch && { fetch: options.fetch }),
        ...(options.nowMs && { nowMs: options.nowMs }),
        ...(options.ringStalenessMs !== undefined && { ringStalenessMs: options.ringStalenessMs }),
      })
      current = { signature, config, router }
    }
    return current.router
  }

  return async function originRequest(event: CloudFrontRequestEvent): Promise<CloudFrontRequest> {
    const request = event.Records[0]!.cf.request
    const origin = request.origin?.custom
    const homeRegion = header(origin?.customHeaders, edgeConfigHeaders.homeRegion)
    const regionUrls = header(origin?.customHeaders, edgeConfigHeaders.regionUrls)
    const config = parseEdgeConfig(homeRegion, regionUrls)
    // Not configured (or not a custom origin): the request goes to the origin as it is.
    if (!origin || !config) return request
    const router = routerFor(config, `${homeRegion}|${regionUrls}`)
    const route = await router.route(request.uri, header(request.headers, 'authorization'))
    if (route.ringVersion !== undefined) {
      request.headers['meridian-ring-version'] = [
        { key: 'Meridian-Ring-Version', value: String(route.ringVersion) },
      ]
    }
    if (route.region && route.region !== config.homeRegion) {
      const host = new URL(config.regionUrls[route.region]!).host
      origin.domainName = host
      request.headers.host = [{ key: 'Host', value: host }]
    }
    return request
  }
}

export const handler = createOriginRequestHandler()
