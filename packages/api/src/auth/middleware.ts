// Authentication and authorization for every route but the public ones (/health and the
// API docs, mounted before this middleware): a valid key, then the scope the route needs.
// The key's tenant becomes the request's tenant, so every package call is namespaced by
// it in storage; a tenant can't even name another tenant's data.
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../app'
import { ProblemError } from '../problem'
import type { Authenticator } from './authenticator'
import { requiredScope } from './required-scope'

export function authentication(authenticator: Authenticator): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = await authenticator.authenticate(c.req.header('authorization'))
    const scope = requiredScope(c.req.method, c.req.path)
    // Fail closed: a path the scope table doesn't list is refused, whichever key asks.
    if (scope === undefined) {
      throw new ProblemError({
        slug: 'forbidden',
        title: 'Forbidden',
        status: 403,
        detail: `No scope grants ${c.req.method} ${c.req.path}.`,
      })
    }
    if (!principal.scopes.has(scope)) {
      throw new ProblemError({
        slug: 'forbidden',
        title: 'Forbidden',
        status: 403,
        detail: `This route needs the ${scope} scope.`,
        extensions: { requiredScope: scope },
      })
    }
    c.set('tenant', principal.tenant)
    c.set('principal', principal)
    await next()
  }
}
