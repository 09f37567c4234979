/// <reference path="./.sst/platform/config.d.ts" />
// The SST app. Resources are declared in infra/, one file per concern, from the same
// definitions the local runtime bootstraps (packages/aws).
export default $config({
  app(input) {
    return {
      name: 'meridian',
      removal: input?.stage === 'production' ? 'retain' : 'remove',
      protect: input?.stage === 'production',
      home: 'aws',
    }
  },
  async run() {
    const storage = await import('./infra/storage')
    const queues = await import('./infra/queues')
    const api = await import('./infra/api')
    return {
      api: api.api.url,
      bucket: storage.bucket.name,
      coordinationTable: storage.coordination.name,
      mapQueue: queues.mapQueue.url,
      reduceQueue: queues.reduceQueue.url,
    }
  },
})
