// The engine probes for the deployed (and locally emulated) resources, reading names
// through SST's Resource. Cheap control-plane reads: DescribeTable, GetQueueAttributes,
// HeadBucket.
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb'
import { HeadBucketCommand } from '@aws-sdk/client-s3'
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs'
import {
  coordinationTable,
  dataBucket,
  dynamoClient,
  mapQueue,
  s3Client,
  sqsClient,
  storeTables,
} from '@meridian/aws'
import { Resource } from 'sst'
import type { EngineProbe } from './health'

type LinkedResources = Record<string, { name?: string; url?: string }>

function linked(resource: string): { name?: string; url?: string } {
  return (Resource as unknown as LinkedResources)[resource] ?? {}
}

export function awsEngineProbes(): EngineProbe[] {
  return [
    {
      engine: 'dynamodb',
      async check(signal) {
        await Promise.all(
          [coordinationTable, ...storeTables].map((table) =>
            dynamoClient('region' in table ? table.region : undefined).send(
              new DescribeTableCommand({ TableName: linked(table.resource).name }),
              { abortSignal: signal },
            ),
          ),
        )
      },
    },
    {
      engine: 'sqs',
      async check(signal) {
        await sqsClient().send(
          new GetQueueAttributesCommand({
            QueueUrl: linked(mapQueue.resource).url,
            AttributeNames: ['QueueArn'],
          }),
          { abortSignal: signal },
        )
      },
    },
    {
      engine: 's3',
      async check(signal) {
        await s3Client().send(new HeadBucketCommand({ Bucket: linked(dataBucket.resource).name }), {
          abortSignal: signal,
        })
      },
    },
  ]
}
