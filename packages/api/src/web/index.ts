// The API's public web pages: the dashboard (GET /dashboard, its module and stylesheet) and
// the API documentation (GET /docs, Swagger UI with its script and stylesheet). Every asset
// is served by the API itself from a generated module of strings
// (scripts/generate-web-assets.ts), so the pages work with no internet and the Lambda bundle
// needs no files beside it. The pages hold no secret: the dashboard asks for an API key and
// sends it with each API call; Swagger UI's "Authorize" does the same.
import { swaggerUI } from '@hono/swagger-ui'
import { Hono } from 'hono'
import type { AppEnv } from '../app'
import { dashboardHtml, dashboardScript, dashboardStyle } from './dashboard-assets.generated'
import { swaggerUiScript, swaggerUiStyle } from './swagger-ui-assets.generated'

/** Where Swagger UI's assets are served; @hono/swagger-ui appends `/swagger-ui-dist`. */
const swaggerUiBase = '/docs'

/** Every path these routes serve (all public: mounted before authentication). */
export const webPaths = [
  '/dashboard',
  '/dashboard/app.js',
  '/dashboard/app.css',
  '/favicon.ico',
  '/docs',
  `${swaggerUiBase}/swagger-ui-dist/swagger-ui-bundle.js`,
  `${swaggerUiBase}/swagger-ui-dist/swagger-ui.css`,
] as const

/** A donut in the dashboard's first region colour. */
const favicon =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">' +
  '<circle cx="8" cy="8" r="6" fill="none" stroke="#1a5fb4" stroke-width="3"/></svg>'

const javascript = 'text/javascript; charset=utf-8'
const css = 'text/css; charset=utf-8'

// The dashboard loads nothing from elsewhere and runs no inline script; its API calls go to
// this origin. Swagger UI's page has an inline start-up script, so /docs goes without.
const dashboardSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"

export function webRoutes(openApiPath: string) {
  const app = new Hono<AppEnv>()
  const asset = (path: string, body: string, contentType: string, cacheControl: string) =>
    app.get(path, (c) =>
      c.body(body, 200, { 'content-type': contentType, 'cache-control': cacheControl }),
    )
  // The dashboard changes with the API, so a browser revalidates it; Swagger UI's files
  // change only with the package version.
  app.get('/dashboard', (c) =>
    c.html(dashboardHtml, 200, {
      'cache-control': 'no-cache',
      'content-security-policy': dashboardSecurityPolicy,
    }),
  )
  asset('/dashboard/app.js', dashboardScript, javascript, 'no-cache')
  asset('/dashboard/app.css', dashboardStyle, css, 'no-cache')
  // Browsers ask for it on every page; without this route they'd get the API's 401.
  app.get('/favicon.ico', (c) =>
    c.body(favicon, 200, {
      'content-type': 'image/svg+xml',
      'cache-control': 'public, max-age=86400',
    }),
  )
  app.get(
    '/docs',
    swaggerUI({
      url: openApiPath,
      title: 'Meridian API',
      baseUrl: swaggerUiBase,
      // Without this Swagger UI shows a badge loaded from validator.swagger.io.
      validatorUrl: 'none',
    }),
  )
  asset(
    `${swaggerUiBase}/swagger-ui-dist/swagger-ui-bundle.js`,
    swaggerUiScript,
    javascript,
    'public, max-age=86400',
  )
  asset(
    `${swaggerUiBase}/swagger-ui-dist/swagger-ui.css`,
    swaggerUiStyle,
    css,
    'public, max-age=86400',
  )
  return app
}
