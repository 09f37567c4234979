// The Hono app: routes mounted from feature modules, one error handler that turns every
// failure into problem+json, and a problem+json 404. It speaks Web Request/Response only;
// functions/api.ts adapts it to Lambda and packages/local serves it with Node.
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { type EngineProbe, healthRoutes } from './health'
import { ProblemError, problemResponse, problemType } from './problem'

/**
 * Every route runs for one tenant; storage is namespaced by it (each package takes the
 * tenant with the operation). Until authentication lands, every request is the
 * `default` tenant.
 */
export const defaultTenant = 'default'

export interface AppEnv {
  Variables: { tenant: string }
}

/**
 * What the routes need. Each feature adds its service as an optional field and mounts its
 * routes only when present, so a test builds an app with just what it exercises;
 * functions/api.ts wires the AWS implementations of all of them.
 */
export interface AppDependencies {
  probes: readonly EngineProbe[]
  /** Where unexpected errors are reported; the response never carries their details. */
  logError?: (error: unknown) => void
}

export function createApp(dependencies: AppDependencies) {
  const app = new Hono<AppEnv>()
  app.route('/health', healthRoutes(dependencies.probes))
  app.use('*', async (c, next) => {
    c.set('tenant', defaultTenant)
    await next()
  })

  app.notFound((c) =>
    problemResponse({
      type: problemType('not-found'),
      title: 'Not Found',
      status: 404,
      detail: `No route for ${c.req.method} ${c.req.path}`,
    }),
  )

  app.onError((error, c) => {
    if (error instanceof ProblemError)
      return problemResponse({ ...error.problem, instance: c.req.path })
    if (error instanceof HTTPException) {
      return problemResponse({
        type: problemType(error.status === 413 ? 'payload-too-large' : 'bad-request'),
        title: error.message || 'Bad Request',
        status: error.status,
        instance: c.req.path,
      })
    }
    dependencies.logError?.(error)
    return problemResponse({
      type: problemType('internal'),
      title: 'Internal Server Error',
      status: 500,
      instance: c.req.path,
    })
  })
  return app
}

export type App = ReturnType<typeof createApp>
