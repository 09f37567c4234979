// Every error response is application/problem+json (RFC 9457) with a stable `type`, so
// clients branch on `type`, never on prose. Routes throw ProblemError (or a package's
// typed error that app.onError maps); nothing else builds an error body.
export const problemContentType = 'application/problem+json'

export interface ProblemDetails {
  /** A stable URI naming the kind of problem, e.g. `urn:meridian:problem:not-found`. */
  type: string
  title: string
  status: number
  detail?: string
  instance?: string
  [extension: string]: unknown
}

export function problemType(slug: string): string {
  return `urn:meridian:problem:${slug}`
}

export interface ProblemInit {
  /** The last part of `type`: `not-found` becomes `urn:meridian:problem:not-found`. */
  slug: string
  title: string
  status: number
  detail?: string
  /** Extension members, such as the current holder of a lock. */
  extensions?: Record<string, unknown>
  /** Response headers that belong with the problem, such as Retry-After or ETag. */
  headers?: Record<string, string>
}

export class ProblemError extends Error {
  override name = 'ProblemError'
  readonly problem: ProblemDetails
  readonly headers: Record<string, string>

  constructor(init: ProblemInit, options?: ErrorOptions) {
    super(init.detail ?? init.title, options)
    this.headers = init.headers ?? {}
    this.problem = {
      ...init.extensions,
      type: problemType(init.slug),
      title: init.title,
      status: init.status,
      ...(init.detail !== undefined && { detail: init.detail }),
    }
  }
}

export function problemResponse(
  problem: ProblemDetails,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { ...headers, 'content-type': problemContentType },
  })
}
