// AWS SDK clients, one per service and region, created lazily and reused across
// invocations (Lambda keeps module state between warm invocations). Endpoints come from
// the SDK's own configuration (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS,
// AWS_ENDPOINT_URL_S3), which the local runtime sets, so no code branches on "local".
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { S3Client } from '@aws-sdk/client-s3'
import { SQSClient } from '@aws-sdk/client-sqs'
import { settings } from './settings'
import { stageConfig } from './stage-config'

const dynamoClients = new Map<string, DynamoDBClient>()
const storeClients = new Map<string, DynamoDBClient>()
const sqsClients = new Map<string, SQSClient>()
const s3Clients = new Map<string, S3Client>()

/**
 * The coordination table, the queues and the bucket live in the home region, whichever
 * region the calling function runs in: a regional API (edge mode) in eu-west-1 still reads
 * API keys and the ring from the home region's table.
 */
function homeRegion(): string {
  return stageConfig.homeRegion
}

export function dynamoClient(region: string = homeRegion()): DynamoDBClient {
  let client = dynamoClients.get(region)
  if (!client) {
    client = new DynamoDBClient({ region })
    dynamoClients.set(region, client)
  }
  return client
}

/**
 * The client for the KV store table in `region`: short explicit timeouts and two attempts,
 * so a region that stops answering fails a request within about two timeouts (the failure
 * detector then answers for it at once) instead of the SDK's defaults.
 */
export function storeClient(region: string): DynamoDBClient {
  let client = storeClients.get(region)
  if (!client) {
    const timeoutMs = settings().MERIDIAN_STORE_TIMEOUT_MS
    const endpoint = settings().MERIDIAN_STORE_ENDPOINTS[region]
    client = new DynamoDBClient({
      region,
      ...(endpoint && { endpoint }),
      maxAttempts: 2,
      // Without throwOnRequestTimeout the handler only logs a request past its timeout.
      requestHandler: {
        connectionTimeout: timeoutMs,
        requestTimeout: timeoutMs,
        throwOnRequestTimeout: true,
      },
    })
    storeClients.set(region, client)
  }
  return client
}

export function sqsClient(region: string = homeRegion()): SQSClient {
  let client = sqsClients.get(region)
  if (!client) {
    // Route by the configured endpoint, not the queue URL's host: on AWS both are the
    // regional endpoint; locally the URL's host (sqs.<region>.localhost) doesn't resolve.
    client = new SQSClient({ region, useQueueUrlAsEndpoint: false })
    sqsClients.set(region, client)
  }
  return client
}

export function s3Client(region: string = homeRegion()): S3Client {
  let client = s3Clients.get(region)
  if (!client) {
    // Path-style addressing works on AWS and on local emulators alike (no wildcard DNS).
    client = new S3Client({ region, forcePathStyle: true })
    s3Clients.set(region, client)
  }
  return client
}
