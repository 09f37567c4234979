// Routes are declared with @hono/zod-openapi: one zod schema per parameter, header and
// body both validates the request and documents it in the OpenAPI 3.1 document served at
// /openapi.json. A failed validation becomes a problem+json 400 listing every issue.
import { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from './app'
import { ProblemError } from './problem'

export function openApiRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return
      const issues = result.error.issues.map((issue) => ({
        path: issue.path.join('.'),
        message: issue.message,
      }))
      throw new ProblemError({
        slug: 'invalid-request',
        title: 'Bad Request',
        status: 400,
        detail: issues.map((issue) => `${issue.path || '(request)'}: ${issue.message}`).join('; '),
        extensions: { issues },
      })
    },
  })
}

/**
 * The problem+json answers of a route, by status. Typed per status so the typed client
 * (hono/client) knows each error answer is a Problem.
 */
export const problemResponses = <const Descriptions extends Record<number, string>>(
  descriptions: Descriptions,
) =>
  Object.fromEntries(
    Object.entries(descriptions).map(([status, description]) => [
      status,
      { description, content: { 'application/problem+json': { schema: problemSchema } } },
    ]),
  ) as {
    // Keys that came through an object spread are numeric strings ("401"); a route's typed
    // responses only count number keys, so each becomes its number again.
    [Status in keyof Descriptions as Status extends `${infer Code extends number}`
      ? Code
      : Status]: {
      description: string
      content: { 'application/problem+json': { schema: typeof problemSchema } }
    }
  }

import { z } from '@hono/zod-openapi'

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
  })
  .passthrough()
  .openapi('Problem')
