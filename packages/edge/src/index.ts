/**
 * The edge tier: the routing (edge-router.ts) that sends `/kv/:key` to the API in the key's
 * owner region (by the pure ring module and a cached ring config) and everything else to
 * the home region's API; a Hono app that forwards each request by it (edge-app.ts, the local
 * runtime's edge); the CloudFront origin-request trigger in functions/edge.ts uses the
 * router alone. No Node built-ins and no AWS SDK, so it bundles for an edge runtime.
 */
export * from './edge-app'
export * from './edge-config'
export * from './edge-ring'
export * from './edge-router'
