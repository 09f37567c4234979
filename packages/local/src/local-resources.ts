// Names of the local copies of every table, queue and bucket, and the environment that
// hands them to code exactly as SST does on AWS: one SST_RESOURCE_<Name> JSON variable per
// linked resource, read by `Resource` from the sst SDK. Endpoints reach the AWS SDK through
// its own AWS_ENDPOINT_URL_<SERVICE> variables, so application code has no local branch.
import { generateApiKey } from '@meridian/api/api-keys'
import {
  adminApiKeySecret,
  type BucketDefinition,
  dataBucket,
  stageConfig,
  type TableDefinition,
} from '@meridian/aws'
import { localProcessDefaults } from './local-defaults'

export interface LocalQueue {
  url: string
  arn: string
}

export interface LocalResources {
  stage: string
  region: string
  tables: Map<TableDefinition, string>
  queues: Map<string, LocalQueue>
  bucketName: string
}

export function localTableName(stage: string, table: TableDefinition): string {
  return `${stageConfig.appName}-${stage}-${table.resource}`
}

export function localQueueName(stage: string, resource: string): string {
  return `${stageConfig.appName}-${stage}-${resource}`
}

export function localBucketName(stage: string, bucket: BucketDefinition): string {
  return `${stageConfig.appName}-${stage}-${bucket.resource}`.toLowerCase()
}

export interface EngineEndpoints {
  dynamodbEndpoint: string
  sqsEndpoint: string
  s3Endpoint: string
}

/** Every variable the handlers and the API need, as SST would set them in Lambda. */
export function resourceEnvironment(
  resources: LocalResources,
  endpoints: EngineEndpoints,
  adminApiKey: string = generateApiKey().key,
): Record<string, string> {
  const environment: Record<string, string> = {
    AWS_REGION: resources.region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SQS: endpoints.sqsEndpoint,
    AWS_ENDPOINT_URL_S3: endpoints.s3Endpoint,
    // The defaults, unless the runtime's own environment sets them.
    ...Object.fromEntries(
      Object.entries(localProcessDefaults).map(([name, value]) => [
        name,
        process.env[name] ?? value,
      ]),
    ),
    SST_RESOURCE_App: JSON.stringify({ name: stageConfig.appName, stage: resources.stage }),
  }
  const link = (resource: string, value: Record<string, string>) => {
    environment[`SST_RESOURCE_${resource}`] = JSON.stringify(value)
  }
  for (const [table, name] of resources.tables) {
    link(table.resource, { name, type: 'sst.aws.Dynamo' })
  }
  for (const [resource, queue] of resources.queues) {
    link(resource, { url: queue.url, type: 'sst.aws.Queue' })
  }
  link(dataBucket.resource, { name: resources.bucketName, type: 'sst.aws.Bucket' })
  link(adminApiKeySecret.resource, { value: adminApiKey, type: 'sst.sst.Secret' })
  return environment
}
