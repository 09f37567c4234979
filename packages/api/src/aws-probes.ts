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
  storeTableResource,
  storeTables,
} from '@meridian/aws'
import { linkedName, linkedUrl } from '@meridian/aws/linked'
import type { EngineProbe } from './health'

export function awsEngineProbes(): EngineProbe[] {
  return [
    {
      engine: 'dynamodb',
      async check(signal) {
        await Promise.all(
          [coordinationTable, ...storeTables].map((table) =>
            dynamoClient('region' in table ? table.region : undefined).send(
              new DescribeTableCommand({ TableName: linkedName(table.resource) }),
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
            QueueUrl: linkedUrl(mapQueue.resource),
            AttributeNames: ['QueueArn'],
          }),
          { abortSignal: signal },
        )
      },
    },
    {
      engine: 's3',
      async check(signal) {
        await s3Client().send(new HeadBucketCommand({ Bucket: linkedName(dataBucket.resource) }), {
          abortSignal: signal,
        })
      },
    },
  ]
}

/**
 * A regional API's probes (edge mode): the two tables it reads, the coordination table in
 * the home region and its own region's store table. It links no queue and no bucket.
 */
export function awsRegionalEngineProbes(region: string): EngineProbe[] {
  return [
    {
      engine: 'dynamodb',
      async check(signal) {
        await Promise.all([
          dynamoClient().send(
            new DescribeTableCommand({ TableName: linkedName(coordinationTable.resource) }),
            { abortSignal: signal },
          ),
          dynamoClient(region).send(
            new DescribeTableCommand({ TableName: linkedName(storeTableResource(region)) }),
            { abortSignal: signal },
          ),
        ])
      },
    },
  ]
}
