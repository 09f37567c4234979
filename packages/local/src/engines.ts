// Starts both local engines on free ports (or given ones) and stops them in reverse
// order. A failure while starting stops whatever had already started. With a data
// directory, both keep their data there (DynamoDB under dynamodb/, S3 objects under s3/);
// without one, everything is in memory (the test suite's throwaway engines).
import { join, resolve } from 'node:path'
import { startDynamoDbLocal } from './dynamodb-local'
import { startFauxqs } from './fauxqs'
import { freePort } from './free-port'

export interface LocalEngines {
  dynamodbEndpoint: string
  /** fauxqs serves SQS and S3 on one endpoint. */
  sqsEndpoint: string
  s3Endpoint: string
  stop(): Promise<void>
}

export interface LocalEnginesOptions {
  region: string
  dynamodbPort?: number
  fauxqsPort?: number
  /** Keep DynamoDB data and S3 objects under this directory (for example `.data`). */
  dataDirectory?: string
}

/** Where each engine keeps its files under a data directory, as absolute paths. */
export function engineDirectories(dataDirectory: string): { dynamodb: string; s3: string } {
  const root = resolve(dataDirectory)
  return { dynamodb: join(root, 'dynamodb'), s3: join(root, 's3') }
}

export async function startLocalEngines(options: LocalEnginesOptions): Promise<LocalEngines> {
  const directories = options.dataDirectory ? engineDirectories(options.dataDirectory) : undefined
  const [dynamodb, fauxqs] = await Promise.allSettled([
    (async () =>
      startDynamoDbLocal({
        port: options.dynamodbPort ?? (await freePort()),
        persistDirectory: directories?.dynamodb,
      }))(),
    startFauxqs({
      port: options.fauxqsPort ?? 0,
      region: options.region,
      s3Directory: directories?.s3,
    }),
  ])
  if (dynamodb.status === 'rejected' || fauxqs.status === 'rejected') {
    for (const result of [fauxqs, dynamodb]) {
      if (result.status === 'fulfilled') await result.value.stop()
    }
    throw dynamodb.status === 'rejected'
      ? dynamodb.reason
      : (fauxqs as PromiseRejectedResult).reason
  }
  return {
    dynamodbEndpoint: dynamodb.value.endpoint,
    sqsEndpoint: fauxqs.value.endpoint,
    s3Endpoint: fauxqs.value.endpoint,
    async stop() {
      await fauxqs.value.stop()
      await dynamodb.value.stop()
    },
  }
}
