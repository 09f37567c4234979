// Turns the resource names a function declares (`links` in packages/aws/src/wiring.ts)
// into the components to link: linking is how SST grants IAM, so each function gets
// access to exactly what it declares. Also what every Meridian function shares.
import { adminApiKeySecret, coordinationTable, dataBucket } from '../packages/aws/src'
import { queues } from './queues'
import { adminApiKey } from './secrets'
import { bucket, coordination, storeTables } from './storage'

export const functionDefaults = {
  runtime: 'nodejs22.x',
  architecture: 'arm64',
  memory: '1024 MB',
} as const

export function linked(names: readonly string[]) {
  const components = new Map<string, unknown>([
    [coordinationTable.resource, coordination],
    [dataBucket.resource, bucket],
    [adminApiKeySecret.resource, adminApiKey],
    ...storeTables,
    ...queues,
  ])
  return names.map((name) => {
    const component = components.get(name)
    if (!component) throw new Error(`no component named ${name} to link`)
    return component
  })
}
