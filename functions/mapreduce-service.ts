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
import { linkedName, linkedUrl } from '@meridian/aws/linked'
import { awsMapReduceDependencies, JobService, type TaskHooks } from '@meridian/mapreduce'

export function mapReduceService(hooks?: TaskHooks): JobService {
  return new JobService(
    awsMapReduceDependencies({
      dynamodb: dynamoClient(),
      sqs: sqsClient(),
      s3: s3Client(),
      tableName: linkedName(coordinationTable.resource),
      bucketName: linkedName(dataBucket.resource),
      mapQueueUrl: linkedUrl(mapQueue.resource),
      reduceQueueUrl: linkedUrl(reduceQueue.resource),
      ...(hooks && { hooks }),
    }),
  )
}
