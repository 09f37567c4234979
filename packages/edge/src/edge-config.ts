// How the deployed edge is configured. A Lambda@Edge function takes no environment
// variables, so infra puts its configuration on the CloudFront origin as custom headers,
// which an origin-request trigger reads from `request.origin.custom.customHeaders`:
// the home region, and every region's API base URL as `region=url` pairs. infra/edge.ts
// writes them with `edgeConfigHeaders`, functions/edge.ts reads them with `parseEdgeConfig`.

export const edgeConfigHeaders = {
  homeRegion: 'meridian-edge-home-region',
  regionUrls: 'meridian-edge-region-urls',
} as const

export interface EdgeConfig {
  homeRegion: string
  /** Each region's API base URL, without a trailing slash. */
  regionUrls: Record<string, string>
}

/** `us-east-1=https://a.example,eu-west-1=https://b.example` (URLs may end in `/`). */
export function formatRegionUrls(regionUrls: Readonly<Record<string, string>>): string {
  return Object.entries(regionUrls)
    .map(([region, url]) => `${region}=${url}`)
    .join(',')
}

/** The config in two header values, or undefined when either is missing or malformed. */
export function parseEdgeConfig(
  homeRegion: string | undefined,
  regionUrls: string | undefined,
): EdgeConfig | undefined {
  if (!homeRegion || !regionUrls) return undefined
  const urls: Record<string, string> = {}
  for (const pair of regionUrls.split(',')) {
    const separator = pair.indexOf('=')
    const region = pair.slice(0, separator).trim()
    const url = pair.slice(separator + 1).trim()
    if (separator < 1 || !URL.canParse(url)) return undefined
    urls[region] = url.replace(/\/+$/, '')
  }
  return urls[homeRegion] ? { homeRegion, regionUrls: urls } : undefined
}
