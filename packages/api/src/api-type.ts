// The type of Meridian's whole HTTP API, for the typed client (@meridian/client, built on
// hono/client). createApp mounts each feature only when its service is given, so a test can
// build an app with just what it exercises; a statement-by-statement app loses the route
// types, so this composes them at the type level, exactly as Hono's `route()` would: every
// feature router is a chain, and its schema is mounted under its prefix. A deployed API
// (functions/api-app.ts) mounts all of them; test/integration/api/typed-client.test.ts
// checks that every route the client knows is one the real app serves.
import type { Hono } from 'hono'
import type { MergeSchemaPath } from 'hono/types'
import type { AppEnv } from './app'
import type { healthRoutes } from './health'
import type { adminRoutes } from './routes/admin'
import type { jobRoutes } from './routes/jobs'
import type { kvRoutes } from './routes/kv'
import type { lockRoutes } from './routes/locks'
import type { regionRoutes } from './routes/regions'
import type { ringRoutes } from './routes/ring'
import type { txnRoutes } from './routes/txn'

// biome-ignore lint/suspicious/noExplicitAny: matches any router, as Hono's own `route()` does
type SchemaOf<Router> = Router extends Hono<any, infer S, any> ? S : never
type Mounted<
  Prefix extends string,
  Factory extends (...args: never[]) => unknown,
> = MergeSchemaPath<SchemaOf<ReturnType<Factory>>, Prefix>

export type MeridianSchema =
  | Mounted<'/health', typeof healthRoutes>
  | Mounted<'/admin', typeof adminRoutes>
  | Mounted<'/kv', typeof kvRoutes>
  | Mounted<'/ring', typeof ringRoutes>
  | Mounted<'/regions', typeof regionRoutes>
  | Mounted<'/locks', typeof lockRoutes>
  | Mounted<'/txn', typeof txnRoutes>
  | Mounted<'/jobs', typeof jobRoutes>

/** The deployed API as a Hono app type: `hc<MeridianApi>(url)` is its typed client. */
export type MeridianApi = Hono<AppEnv, MeridianSchema, '/'>
