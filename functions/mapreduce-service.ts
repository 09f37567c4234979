// Composition shared by the MapReduce handlers: the job service on the AWS adapters, with
// names read through SST's Resource (the local runtime provides the same variables).
import {
  coordinationTable,
  dataBucket,
  dynamoClient,
  mapQueue,
  reduceQueue,
  s3Client,
  sqsClient,
} from '@meridian/aws'
import { awsMapReduceDependencies, JobService, type TaskHooks } from '@meridian/mapreduce'
import { Resource } from 'sst'

type LinkedResources = Record<string, { name?: string; url?: string } | undefined>

function linked(resource: string, field: 'name' | 'url'): string {
  const value = (Resource as unknown as LinkedResources)[resource]?.[field]
  if (!value) throw new Error(`resource ${resource} is not linked to this function`)
  return value
}

export function mapReduceService(hooks?: TaskHooks): JobService {
  return new JobService(
    awsMapReduceDependencies({
      dynamodb: dynamoClient(),
      sqs: sqsClient(),
      s3: s3Client(),
      tableName: linked(coordinationTable.resource, 'name'),
      bucketName: linked(dataBucket.resource, 'name'),
      mapQueueUrl: linked(mapQueue.resource, 'url'),
      reduceQueueUrl: linked(reduceQueue.resource, 'url'),
      ...(hooks && { hooks }),
    }),
  )
}
