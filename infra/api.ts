// The HTTP APIs: the Hono app on Lambda function URLs, linked to what their routes read.
// Response streaming is on, so GET /jobs/:id/events can stream server-sent events.
// - `api`: the home region's API, linked to every table, the queues and the bucket.
// - `regionalApis`: one per other store region, created through that region's provider
//   (shared with its store table), linked to its own store table, the coordination table
//   and the admin key only; MERIDIAN_SERVED_REGION and MERIDIAN_HOME_API_URL put it in
//   regional mode (functions/regional-api-app.ts). The edge (infra/edge.ts) routes to them.
import { apiFunction, regionalApiFunction } from '../packages/aws/src'
import { functionDefaults, linked } from './links'
import { regionProviders } from './storage'

export const api = new sst.aws.Function(apiFunction.name, {
  ...functionDefaults,
  handler: apiFunction.handler,
  timeout: `${apiFunction.timeoutSeconds} seconds`,
  url: true,
  streaming: true,
  link: linked(apiFunction.links),
})

/** Each regional API by its region. */
export const regionalApis = new Map(
  regionalApiFunction.regions().map((region) => {
    const provider = regionProviders.get(region)
    if (!provider) throw new Error(`no provider for the store region ${region}`)
    const fn = new sst.aws.Function(
      regionalApiFunction.name(region),
      {
        ...functionDefaults,
        handler: regionalApiFunction.handler,
        timeout: `${regionalApiFunction.timeoutSeconds} seconds`,
        url: true,
        streaming: true,
        link: linked(regionalApiFunction.links(region)),
        environment: { MERIDIAN_SERVED_REGION: region, MERIDIAN_HOME_API_URL: api.url },
      },
      { provider },
    )
    return [region, fn] as const
  }),
)
