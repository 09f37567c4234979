// Key management for operators (scope `admin`): create a key for any tenant (the secret is
// shown once, in the creation response), list a tenant's keys, revoke one.
import { createRoute, z } from '@hono/zod-openapi'
import type { ApiKeyStore } from '../auth/api-key-store'
import { type ApiKeyRecord, generateApiKey, scopes } from '../auth/api-keys'
import type { Authenticator } from '../auth/authenticator'
import { openApiRouter, problemResponses } from '../openapi'
import { ProblemError } from '../problem'
import { accessProblems, bodyProblems } from './route-declarations'

const tenantSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, 1–63 characters')
  .openapi({ example: 'acme' })

const keySummary = z
  .object({
    id: z.string(),
    tenant: z.string(),
    scopes: z.array(z.enum(scopes)),
    name: z.string(),
    createdAtMs: z.number().int(),
    revokedAtMs: z.number().int().optional(),
  })
  .openapi('ApiKey')

const summarize = (record: ApiKeyRecord) => ({
  id: record.id,
  tenant: record.tenant,
  scopes: record.scopes,
  name: record.name,
  createdAtMs: record.createdAtMs,
  ...(record.revokedAtMs !== undefined && { revokedAtMs: record.revokedAtMs }),
})

const createKey = createRoute({
  method: 'post',
  path: '/keys',
  summary: 'Create an API key for a tenant; the response is the only time the key is shown',
  security: [{ apiKey: [] }],
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({
              tenant: tenantSchema,
              scopes: z.array(z.enum(scopes)).min(1).max(scopes.length),
              name: z.string().min(1).max(100),
            })
            .strict(),
        },
      },
    },
  },
  responses: {
    201: {
      description: 'Created',
      content: { 'application/json': { schema: keySummary.extend({ key: z.string() }) } },
    },
    ...problemResponses({ 400: 'Invalid request', ...accessProblems, ...bodyProblems }),
  },
})

const listKeys = createRoute({
  method: 'get',
  path: '/keys',
  summary: "List a tenant's API keys (never their secrets)",
  security: [{ apiKey: [] }],
  request: { query: z.object({ tenant: tenantSchema }) },
  responses: {
    200: {
      description: 'The keys',
      content: { 'application/json': { schema: z.object({ keys: z.array(keySummary) }) } },
    },
    ...problemResponses({ 400: 'Invalid request', ...accessProblems }),
  },
})

const revokeKey = createRoute({
  method: 'delete',
  path: '/keys/{id}',
  summary: 'Revoke an API key (takes effect on every instance within the auth cache TTL)',
  security: [{ apiKey: [] }],
  request: { params: z.object({ id: z.string().regex(/^[0-9a-f]{16}$/) }) },
  responses: {
    204: { description: 'Revoked' },
    ...problemResponses({ 400: 'Invalid request', ...accessProblems, 404: 'No such key' }),
  },
})

export function adminRoutes(store: ApiKeyStore, authenticator: Authenticator) {
  return openApiRouter()
    .openapi(createKey, async (c) => {
      const body = c.req.valid('json')
      const { id, key, secretSha256 } = generateApiKey()
      const record: ApiKeyRecord = {
        id,
        tenant: body.tenant,
        scopes: body.scopes,
        name: body.name,
        secretSha256,
        createdAtMs: Date.now(),
      }
      await store.create(record)
      return c.json({ ...summarize(record), key }, 201)
    })
    .openapi(listKeys, async (c) => {
      const { tenant } = c.req.valid('query')
      const records = await store.listByTenant(tenant)
      return c.json({ keys: records.map(summarize) }, 200)
    })
    .openapi(revokeKey, async (c) => {
      const { id } = c.req.valid('param')
      if (!(await store.revoke(id, Date.now()))) {
        throw new ProblemError({
          slug: 'not-found',
          title: 'Not Found',
          status: 404,
          detail: `No API key ${id}`,
        })
      }
      authenticator.forget(id)
      return c.body(null, 204)
    })
}
