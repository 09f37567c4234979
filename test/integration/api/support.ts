// Shared by the API-wide tests: the real composition root (functions/api-app.ts, every
// service on the AWS adapters against the test engines), its routes as Hono registered
// them, and API keys made through the admin route with the bootstrap admin key.
import { problemContentType, type Scope, webPaths } from '@meridian/api'
import { inject } from 'vitest'
import { app } from '../../../functions/api-app'

export { app }

/** Public: health, the OpenAPI document and the web pages (/docs, /dashboard) with their assets. */
export const publicPaths = new Set<string>(['/health', '/openapi.json', ...webPaths])

export interface RouteUnderTest {
  method: string
  path: string
}

/** Every route a client can call (middleware entries and public routes left out). */
export function protectedRoutes(): RouteUnderTest[] {
  const seen = new Map<string, RouteUnderTest>()
  for (const route of app.routes) {
    if (route.method === 'ALL' || publicPaths.has(route.path)) continue
    seen.set(`${route.method} ${route.path}`, { method: route.method, path: route.path })
  }
  return [...seen.values()]
}

/** `/locks/:name/acquire` → `/locks/probe/acquire`; multi-segment params get one segment. */
export function concretePath(path: string, value = 'probe'): string {
  return path.replace(/:[A-Za-z]+(\{[^}]*\})?/g, value)
}

export function adminKey(): string {
  return inject('adminApiKey')
}

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` }
}

export async function createKey(
  tenant: string,
  scopes: Scope[],
  name = 'test',
): Promise<{ id: string; key: string }> {
  const response = await app.request('/admin/keys', {
    method: 'POST',
    headers: { ...bearer(adminKey()), 'content-type': 'application/json' },
    body: JSON.stringify({ tenant, scopes, name }),
  })
  if (response.status !== 201)
    throw new Error(`creating a key failed: ${response.status} ${await response.text()}`)
  return (await response.json()) as { id: string; key: string }
}

export function uniqueTenant(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
}

export async function expectProblem(response: Response): Promise<{ type: string; status: number }> {
  const contentType = response.headers.get('content-type') ?? ''
  if (!contentType.startsWith(problemContentType)) {
    throw new Error(
      `expected problem+json, got ${response.status} ${contentType}: ${await response.text()}`,
    )
  }
  const body = (await response.json()) as { type: string; status: number }
  if (body.status !== response.status)
    throw new Error(`problem status ${body.status} != ${response.status}`)
  return body
}
