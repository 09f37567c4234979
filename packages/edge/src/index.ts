/**
 * The edge tier: a Hono app that takes every request, sends `/kv/:key` to the API in the
 * key's owner region (by the pure ring module and a cached ring config) and everything
 * else to the home region's API, and forwards it there. No Node built-ins and no AWS SDK,
 * so it bundles for an edge runtime. See edge-app.ts.
 */
export * from './edge-app'
export * from './edge-ring'
