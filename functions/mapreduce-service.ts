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
import {
  awsMapReduceDependencies,
  DynamoDbJobSlotStore,
  JobService,
  type TaskHooks,
} from '@meridian/mapreduce'

/** Jobs one tenant may run at once, whether submitted over HTTP or started by an event. */
export const runningJobsPerTenantMax = Number(
  process.env.MERIDIAN_RUNNING_JOBS_PER_TENANT_MAX ?? 10,
)

export function mapReduceService(hooks?: TaskHooks): JobService {
  const tableName = linkedName(coordinationTable.resource)
  return new JobService(
    awsMapReduceDependencies({
      dynamodb: dynamoClient(),
      sqs: sqsClient(),
      s3: s3Client(),
      tableName,
      bucketName: linkedName(dataBucket.resource),
      mapQueueUrl: linkedUrl(mapQueue.resource),
      reduceQueueUrl: linkedUrl(reduceQueue.resource),
      ...(hooks && { hooks }),
    }),
    {
      runningJobLimit: {
        slots: new DynamoDbJobSlotStore(dynamoClient(), tableName),
        runningJobsPerTenantMax,
      },
    },
  )
}
