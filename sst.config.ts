// The SST app. Resources are declared in infra/, one file per concern, from the same
// definitions the local runtime bootstraps (packages/aws). Deploy with
// `npm run deploy` (STAGE=production for the retained, protected stage). Its globals are
// typed by SST's own declarations (.sst/platform/config.d.ts, written by `npm run
// infra:prepare`), checked through tsconfig.infra.json.
export default $config({
  app(input) {
    const production = input?.stage === 'production'
    return {
      name: 'meridian',
      home: 'aws',
      removal: production ? 'retain' : 'remove',
      protect: production,
    }
  },
  async run() {
    const storage = await import('./infra/storage')
    await import('./infra/queues')
    await import('./infra/jobs')
    const { api } = await import('./infra/api')
    const { edgeUrl } = await import('./infra/edge')
    return {
      api: api.url,
      edge: edgeUrl,
      bucket: storage.bucket.name,
      coordinationTable: storage.coordination.name,
      storeTables: [...storage.storeTables.values()].map((table) => table.name),
    }
  },
})
