// GET /regions: this instance's view of each store region, from its failure detector
// (packages/store failure-detector.ts): trusted or suspected, since when, the last error,
// and p50/p99 latency of the calls it made. Each instance has its own view.
import { createRoute, z } from '@hono/zod-openapi'
import type { RegionView } from '@meridian/store'
import { openApiRouter } from '../openapi'
import { accessProblems, apiKeySecurity, problemResponses } from './route-declarations'

const regionViewSchema = z
  .object({
    region: z.string(),
    state: z.enum(['trusted', 'suspected']),
    since: z.string(),
    lastError: z.string().optional(),
    p50Ms: z.number().nullable(),
    p99Ms: z.number().nullable(),
    calls: z.number().int(),
    failures: z.number().int(),
  })
  .openapi('RegionView')

const regionsRoute = createRoute({
  method: 'get',
  path: '/',
  summary: "This instance's view of each store region: trusted or suspected, and latency",
  security: apiKeySecurity,
  responses: {
    200: {
      description: 'One entry per store region',
      content: { 'application/json': { schema: z.object({ regions: z.array(regionViewSchema) }) } },
    },
    ...problemResponses({ ...accessProblems }),
  },
})

export interface RegionViews {
  views(): RegionView[]
  view(region: string): RegionView
}

export function regionRoutes(detector: RegionViews, regions: readonly string[]) {
  return openApiRouter().openapi(regionsRoute, (c) =>
    c.json({ regions: regions.map((region) => detector.view(region)) }, 200),
  )
}
