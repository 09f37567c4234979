// Starts DynamoDB Local and fauxqs once for the integration project, on free ports,
// creates every table, queue and bucket from the shared definitions, and hands the
// resulting SST resource environment to the test workers. Teardown stops both engines;
// if vitest dies instead, DynamoDB Local's watchdog sees its stdin close and kills Java.
import { generateApiKey } from '@meridian/api/api-keys'
import { stageConfig } from '@meridian/aws'
import { bootstrapResources, resourceEnvironment, startLocalEngines } from '@meridian/local'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    resourceEnvironment: Record<string, string>
    adminApiKey: string
  }
}

export default async function setup(project: TestProject) {
  const region = stageConfig.homeRegion
  const engines = await startLocalEngines({ region })
  try {
    const resources = await bootstrapResources({ stage: 'test', region, endpoints: engines })
    const adminApiKey = generateApiKey().key
    project.provide('resourceEnvironment', resourceEnvironment(resources, engines, adminApiKey))
    project.provide('adminApiKey', adminApiKey)
  } catch (error) {
    await engines.stop()
    throw error
  }
  return () => engines.stop()
}
