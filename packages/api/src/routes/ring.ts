// /ring: the ring config handlers route by (GET, with its version as ETag), its replacement
// (PUT with If-Match: "<version>", one conditional write; other handlers pick it up within
// the ring cache's staleness bound), and where a key lives (GET /ring/owners/:key).
import type { KvService } from '@meridian/store'
import { Hono } from 'hono'
import { z } from 'zod'
import type { AppEnv } from '../app'
import { ProblemError } from '../problem'
import { etagOf, keyParameter, storeProblem } from './kv'

const nodeSchema = z.strictObject({
  id: z.string().min(1).max(128),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-[0-9]+$/, 'an AWS region such as us-east-1'),
  zone: z.string().min(1).max(64).optional(),
  weight: z.number().positive().max(1_000_000),
})

// Options beyond `nodes` (if the ring defines any) pass through to the ring's own validation.
const ringBodySchema = z.looseObject({
  nodes: z.array(nodeSchema).min(1).max(10_000),
  version: z.number().int().optional(),
})

const ifMatchSchema = z.string().regex(/^"(0|[1-9][0-9]{0,14})"$/, 'an ETag such as "3"')

export function ringRoutes(service: KvService) {
  const app = new Hono<AppEnv>()

  app.get('/', async (c) => {
    const config = await service.ringConfig().catch((error) => {
      throw storeProblem(error)
    })
    return c.json(config, 200, { etag: etagOf(config.version), 'cache-control': 'no-cache' })
  })

  app.put('/', async (c) => {
    const ifMatch = c.req.header('if-match')
    if (ifMatch === undefined) {
      throw new ProblemError({
        slug: 'precondition-required',
        title: 'If-Match required',
        status: 428,
        detail: 'send If-Match with the ETag of the ring config being replaced',
      })
    }
    const parsedIfMatch = ifMatchSchema.safeParse(ifMatch.trim())
    if (!parsedIfMatch.success) {
      throw new ProblemError({
        slug: 'invalid-if-match',
        title: 'Invalid If-Match header',
        status: 400,
      })
    }
    const expectedVersion = Number(parsedIfMatch.data.slice(1, -1))
    const json = await c.req.json().catch(() => {
      throw new ProblemError({ slug: 'invalid-json', title: 'The body is not JSON', status: 400 })
    })
    const body = ringBodySchema.safeParse(json)
    if (!body.success) {
      throw new ProblemError({
        slug: 'invalid-ring-config',
        title: 'Invalid ring config',
        status: 400,
        detail: z.prettifyError(body.error),
      })
    }
    const { version: _ignored, ...config } = body.data
    const stored = await service.replaceRing(expectedVersion, config).catch((error) => {
      throw storeProblem(error)
    })
    return c.json(stored, 200, { etag: etagOf(stored.version) })
  })

  app.get('/owners/:key{.*}', async (c) => {
    const key = keyParameter(c)
    const owners = await service.owners(c.get('tenant'), key).catch((error) => {
      throw storeProblem(error, key)
    })
    return c.json({ key, ...owners })
  })

  return app
}
