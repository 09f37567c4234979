// /openapi.json of the real app (every feature wired to its AWS implementation): a valid
// OpenAPI 3.1 document that declares every route Hono serves, each with its bad-input and
// no-key answers and the API-key security requirement.

import { webPaths } from '@meridian/api'
import { Validator } from '@seriousme/openapi-schema-validator'
import { describe, expect, it } from 'vitest'
import { app } from '../../../functions/api-app'

/** Routes that are public or documentation, not API operations (web pages and their assets). */
const undocumented = new Set<string>(['/health', '/openapi.json', ...webPaths])
const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const

interface Operation {
  parameters?: unknown[]
  requestBody?: unknown
  responses?: Record<string, unknown>
  security?: Record<string, string[]>[]
}
type OpenApiDocument = { paths: Record<string, Partial<Record<string, Operation>>> }

async function fetchDocument(): Promise<OpenApiDocument> {
  const response = await app.request('/openapi.json')
  expect(response.status).toBe(200)
  return (await response.json()) as OpenApiDocument
}

/** `/kv/:key{.*}` and `/locks/:name/acquire` as OpenAPI templates: `/kv/{key}`, … */
function templateOf(path: string): string {
  return path.replace(/:(\w+)(\{[^/]*\})?/g, '{$1}')
}

describe('/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const document = await fetchDocument()
    const result = await new Validator().validate(
      document as unknown as Parameters<Validator['validate']>[0],
    )
    if (!result.valid) console.error(JSON.stringify(result.errors, null, 2))
    expect(result.valid).toBe(true)
    expect((document as { openapi?: string }).openapi).toMatch(/^3\.1\./)
  })

  it('declares every route the app serves', async () => {
    const document = await fetchDocument()
    const served = app.routes
      .filter((route) => route.method !== 'ALL' && !undocumented.has(route.path))
      .map((route) => `${route.method.toLowerCase()} ${templateOf(route.path)}`)
    expect(served.length).toBeGreaterThan(20)
    const declared = new Set(
      Object.entries(document.paths).flatMap(([path, item]) =>
        methods.filter((method) => item[method]).map((method) => `${method} ${path}`),
      ),
    )
    expect(served.filter((route) => !declared.has(route))).toEqual([])
  })

  it('declares a 400 for every operation with input, a 401 and the API-key requirement', async () => {
    const document = await fetchDocument()
    const gaps: string[] = []
    for (const [path, item] of Object.entries(document.paths)) {
      for (const method of methods) {
        const operation = item[method]
        if (!operation) continue
        const name = `${method} ${path}`
        const responses = operation.responses ?? {}
        const hasInput = (operation.parameters?.length ?? 0) > 0 || operation.requestBody
        if (hasInput && !responses['400']) gaps.push(`${name}: no 400`)
        if (!responses['401']) gaps.push(`${name}: no 401`)
        if (!operation.security?.some((requirement) => 'apiKey' in requirement)) {
          gaps.push(`${name}: no apiKey security`)
        }
      }
    }
    expect(gaps).toEqual([])
  })
})
