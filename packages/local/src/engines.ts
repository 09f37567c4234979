// Starts both local engines on free ports (or given ones) and stops them in reverse
// order. A failure while starting stops whatever had already started.
import { join } from 'node:path'
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
  /** Keep DynamoDB data under this directory (for example `.data/dynamodb`). */
  persistDirectory?: string
}

export const defaultPersistDirectory = join('.data', 'dynamodb')

export async function startLocalEngines(options: LocalEnginesOptions): Promise<LocalEngines> {
  const [dynamodb, fauxqs] = await Promise.allSettled([
    (async () =>
      startDynamoDbLocal({
        port: options.dynamodbPort ?? (await freePort()),
        persistDirectory: options.persistDirectory,
      }))(),
    startFauxqs({ port: options.fauxqsPort ?? 0, region: options.region }),
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
