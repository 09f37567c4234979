// Helpers the feature routes share to declare themselves with @hono/zod-openapi while
// keeping their established answers. Two things in those routes don't fit zod-openapi's
// defaults. First, their JSON bodies are parsed by hand so a malformed body is
// `invalid-json` and a bad one carries the feature's own slug (`invalid-lock-request`,
// `invalid-transaction`, …) whatever the request's Content-Type: zod-openapi's body
// validator would answer 415 to a missing or non-JSON Content-Type and a generic 400 to
// malformed JSON, so a JSON body is declared from its zod schema converted to JSON Schema,
// which documents it without installing that validator. Second, a parameter that spans
// path segments (a KV key, an object path) can't be an OpenAPI template, which matches one
// segment: such a route is documented as `{name}` and routed as `:name{.*}`.
import { type OpenAPIHono, type RouteConfig, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { AppEnv } from '../app'
import { problemResponses } from '../openapi'
import { ProblemError } from '../problem'

/** Every feature route needs an API key (the root registers the bearer scheme `apiKey`). */
export const apiKeySecurity = [{ apiKey: [] }]

/** The answers the authentication, scope and rate-limit middleware can give any route. */
export const accessProblems = {
  401: 'No valid API key',
  403: 'The API key lacks the scope this route needs',
  429: 'The API key is over its request rate (Retry-After says when to retry)',
  500: 'An unexpected error (`internal`): its details are logged, never answered',
} as const

/** The body-limit middleware's answer on routes that take a JSON body. */
export const bodyProblems = {
  413: 'The body is over 1 MiB (`payload-too-large`)',
} as const

export { problemResponses }

/**
 * A JSON request body as the route declaration's type sees it: the zod schema, so the
 * typed client (hono/client) knows the body each route accepts. At run time the content
 * holds that schema converted to JSON Schema (see jsonBodyDocumentation).
 */
export interface JsonRequestBody<S extends z.ZodType> {
  description: string
  required: true
  content: { 'application/json': { schema: S } }
}

/**
 * Documents a JSON request body from its zod schema without zod-openapi validating it:
 * the route parses and validates the body itself, keeping its specific problem slugs.
 * zod-openapi only installs a body validator for a zod schema, so handing it the JSON Schema
 * documents the body and leaves validation to the route; the declared type keeps the zod
 * schema so the route's input type (and the client's) is the body the route accepts.
 * Consequence: on such a route `c.req.valid('json')` type-checks but is undefined at run
 * time. Read the body with readJsonBody and the schema's safeParse, as every route here does.
 */
export function jsonBodyDocumentation<S extends z.ZodType>(
  schema: S,
  description: string,
): JsonRequestBody<S> {
  const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  })
  return {
    description,
    required: true,
    content: {
      // A JSON Schema 2020-12 object is an OpenAPI 3.1 Schema Object.
      'application/json': { schema: jsonSchema as unknown as S },
    },
  }
}

/**
 * A route-level hook: when a declared parameter, query or header schema rejects the request,
 * `check` re-runs the route's own validation in its original order and throws that problem,
 * so the answer keeps the specific slug it always had. The declared schemas accept exactly
 * what the checks accept, so falling through to the generic 400 is a declaration bug.
 */
export function rejectWith(check: (c: Context<AppEnv>) => void) {
  // Generic in the path so that passing the hook doesn't pin the route's path type to
  // `string`: the route's literal path is what the typed client is built from.
  return <Path extends string>(
    result: { success: boolean; error?: z.ZodError },
    c: Context<AppEnv, Path>,
  ) => {
    if (result.success) return undefined
    check(c)
    throw new ProblemError({
      slug: 'invalid-request',
      title: 'Bad Request',
      status: 400,
      detail: result.error ? z.prettifyError(result.error) : 'invalid request',
    })
  }
}

/**
 * Documents `route` as declared (its last parameter a one-segment template such as `{key}`)
 * and returns the route to register: the same, hidden from the document, with the last
 * parameter routed as `:key{.*}` (`.*` allows it empty, `.+` does not) so it spans segments.
 */
export function spanningLastParameter<R extends RouteConfig>(
  router: OpenAPIHono<AppEnv>,
  route: R,
  pattern: '.*' | '.+',
): R {
  router.openAPIRegistry.registerPath(route)
  const path = route.path.replace(/\{(\w+)\}$/, `{$1{${pattern}}}`)
  return { ...route, path, hide: true }
}

/** The request body parsed as JSON whatever its Content-Type, or a 400 `invalid-json`. */
export async function readJsonBody(c: Context<AppEnv>): Promise<unknown> {
  try {
    return await c.req.json()
  } catch (error) {
    throw new ProblemError(
      { slug: 'invalid-json', title: 'Body is not valid JSON', status: 400 },
      { cause: error },
    )
  }
}

/** Listing pages: at most this many items; a client that names no limit gets the default. */
export const pageLimitMax = 100
export const pageLimitDefault = 20

/**
 * The query of every listing route: `limit` (1–100, default 20) and the opaque `cursor` a
 * previous page answered as nextCursor. A bad limit is a 400 `invalid-request`; a cursor the
 * listing didn't issue is a 400 `invalid-cursor` from the route.
 */
export const pageQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(pageLimitMax)
    .default(pageLimitDefault)
    .openapi({ description: `Items per page, 1–${pageLimitMax}` }),
  cursor: z
    .string()
    .min(1)
    .max(2048)
    .optional()
    .openapi({ description: "The previous page's nextCursor; absent for the first page" }),
}

/** The answer of a listing route: one page of items and where the next one starts. */
export function pageSchema<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      items: z.array(item),
      nextCursor: z
        .string()
        .nullable()
        .openapi({ description: 'Pass as cursor for the next page; null after the last page' }),
    })
    .openapi(name)
}

/** A cursor the listing did not issue (malformed, or from another tenant's listing). */
export function invalidCursor(cause: unknown): ProblemError {
  return new ProblemError(
    {
      slug: 'invalid-cursor',
      title: 'Invalid cursor',
      status: 400,
      detail: 'The cursor is not one this listing issued; start again without one.',
    },
    { cause },
  )
}
