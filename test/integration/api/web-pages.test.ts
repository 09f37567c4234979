// The public web pages of the real app: the dashboard and the API docs, each with its
// assets served by the API itself (same origin, right content type, no key needed), and
// the ring's arcs the dashboard draws.
import { webPaths } from '@meridian/api'
import { describe, expect, it } from 'vitest'
import { adminKey, app, bearer, expectProblem } from './support'

const origin = 'http://localhost'

/** Every URL an HTML page loads or links: src, href and url(...) attributes. */
function referencedUrls(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']+)["']/g)].map((match) => match[1]!)
}

describe('the web pages', () => {
  it('serve /docs with Swagger UI from this origin only', async () => {
    const response = await app.request('/docs')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await response.text()
    const urls = referencedUrls(html)
    expect(urls).toEqual(
      expect.arrayContaining([
        '/docs/swagger-ui-dist/swagger-ui-bundle.js',
        '/docs/swagger-ui-dist/swagger-ui.css',
      ]),
    )
    for (const url of urls) expect(new URL(url, origin).origin, url).toBe(origin)
    expect(html).not.toMatch(/https?:\/\//)
    expect(html).toContain("url: '/openapi.json'")
    expect(html).toContain("validatorUrl: 'none'")
  })

  it('serve the dashboard page, whose assets are all on this origin', async () => {
    const response = await app.request('/dashboard')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/html/)
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'")
    const html = await response.text()
    const urls = referencedUrls(html)
    expect(urls.sort()).toEqual(['/dashboard/app.css', '/dashboard/app.js'])
    expect(html).not.toMatch(/https?:\/\//)
  })

  it.each([
    ['/dashboard/app.js', 'text/javascript', 'sessionStorage'],
    ['/dashboard/app.css', 'text/css', '#ring-svg'],
    ['/docs/swagger-ui-dist/swagger-ui-bundle.js', 'text/javascript', 'SwaggerUIBundle'],
    ['/docs/swagger-ui-dist/swagger-ui.css', 'text/css', '.swagger-ui'],
  ])('serve %s as %s without an API key', async (path, contentType, marker) => {
    const response = await app.request(path)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe(`${contentType}; charset=utf-8`)
    expect(await response.text()).toContain(marker)
  })

  it('are every web path the app serves, and each answers without a key', async () => {
    for (const path of webPaths) expect((await app.request(path)).status, path).toBe(200)
  })
})

describe('GET /ring/arcs', () => {
  it('covers the hash space with arcs of the ring GET /ring shows', async () => {
    const ring = (await (await app.request('/ring', { headers: bearer(adminKey()) })).json()) as {
      version: number
      config: { nodes: Array<{ id: string; region: string }> }
    }
    const response = await app.request('/ring/arcs?segments=120', { headers: bearer(adminKey()) })
    expect(response.status).toBe(200)
    const body = (await response.json()) as {
      version: number
      nodes: Array<{ id: string; region: string; share: number }>
      arcs: Array<{ start: number; end: number; node: string }>
    }
    expect(body.version).toBe(ring.version)
    expect(body.nodes.map((node) => node.id).sort()).toEqual(
      ring.config.nodes.map((node) => node.id).sort(),
    )
    expect(body.nodes.reduce((sum, node) => sum + node.share, 0)).toBeCloseTo(1, 9)
    expect(body.arcs[0]!.start).toBe(0)
    expect(body.arcs.at(-1)!.end).toBe(1)
    const ids = new Set(body.nodes.map((node) => node.id))
    for (const arc of body.arcs) expect(ids.has(arc.node)).toBe(true)
  })

  it('needs a key and rejects a segment count outside 12..3600', async () => {
    expect((await app.request('/ring/arcs')).status).toBe(401)
    const response = await app.request('/ring/arcs?segments=5', { headers: bearer(adminKey()) })
    expect(response.status).toBe(400)
    expect((await expectProblem(response)).type).toMatch(/invalid-request$/)
  })
})
