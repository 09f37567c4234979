// The one place where the deployment's shape is configured: the app name and the regions
// that hold regional stores. Infra, the local runtime and the initial ring config all read it.
export const stageConfig = {
  appName: 'meridian',
  /** Region of the coordination table, queues, bucket and functions. */
  homeRegion: 'us-east-1',
  /** Regions that each hold one store table; the ring routes keys among them. */
  storeRegions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'],
} as const

export type StoreRegion = (typeof stageConfig.storeRegions)[number]
