/**
 * The typed TypeScript client of Meridian's HTTP API, built on hono/client: every route,
 * its parameters, headers, JSON body and each status's response body are typed from the
 * same zod declarations that validate requests and generate /openapi.json. It imports only
 * the API's type, so it carries none of the server's code.
 *
 *   const meridian = meridianClient('https://….lambda-url.us-east-1.on.aws', { apiKey })
 *   const response = await meridian.locks[':name'].acquire.$post({
 *     param: { name: 'orders' },
 *     json: { leaseMs: 10_000 },
 *   })
 *   if (response.status === 200) {
 *     const { fence } = await response.json() // typed: the lease
 *   } else if (response.status === 409) {
 *     const { owner } = await response.json() // typed: the problem, with the holder
 *   }
 *
 * Path parameters go into the URL as given (hono/client doesn't encode them): pass keys and
 * object paths through `pathParameter`, which percent-encodes them whole.
 * KV values are raw bytes: pass them as `init: { body }` (and their type as the `content-type`
 * header argument; headers in `init` would replace the API key).
 */
import type { MeridianApi } from '@meridian/api'
import { hc } from 'hono/client'

export type { MeridianApi } from '@meridian/api'
export {
  DetailedError,
  type InferRequestType,
  type InferResponseType,
  parseResponse,
} from 'hono/client'

export interface MeridianClientOptions {
  /** An API key (from POST /admin/keys, or the admin key); sent as a bearer token. */
  apiKey: string
  /** Sent with every request, such as an `x-correlation-id` that follows the work into queues and logs. */
  headers?: Record<string, string>
  /** The fetch to use instead of the global one: a proxy, retries, or `app.request` in tests. */
  fetch?: typeof fetch
}

export function meridianClient(baseUrl: string, options: MeridianClientOptions) {
  return hc<MeridianApi>(baseUrl, {
    ...(options.fetch && { fetch: options.fetch }),
    headers: { ...options.headers, authorization: `Bearer ${options.apiKey}` },
  })
}

export type MeridianClient = ReturnType<typeof meridianClient>

/**
 * A KV key or an object path as one path parameter: percent-encoded as UTF-8, `/` included
 * (the API decodes %2F back), so `.` and `..` segments inside it can't be resolved away by
 * URL parsing and address another key. A value that is exactly `.` or `..` has no URL form.
 */
export function pathParameter(value: string): string {
  if (value === '.' || value === '..') {
    throw new RangeError(`${value} can't be a path parameter: URL parsing removes it`)
  }
  return encodeURIComponent(value)
}
