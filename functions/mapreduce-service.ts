// Composition shared by the MapReduce handlers: the job service on the AWS adapters, with
// names read through SST's Resource (the local runtime provides the same variables).
import {
  coordinationTable,
  dataBucket,
  dynamoClient,
  mapQueue,
  reduceQueue,
  s3Client,
  settings,
  sqsClient,
} from '@meridian/aws'
import { linkedName, linkedUrl } from '@meridian/aws/linked'
import {
  awsMapReduceDependencies,
  DynamoDbJobSlotStore,
  JobService,
  type TaskHooks,
} from '@meridian/mapreduce'

/** Jobs one tenant may submit over the API to run at once (an integer ≥ 1). */
export const runningJobsPerTenantMax = settings().MERIDIAN_RUNNING_JOBS_PER_TENANT_MAX

/**
 * The job service on the AWS adapters. `limitRunningJobs` is for the API only: a client can
 * retry a 429, but a job started by an S3 upload or a schedule that were refused would be
 * lost (Lambda retries an S3 notification twice, then drops it), so those are not limited.
 */
export function mapReduceService(
  hooks?: TaskHooks,
  options: { limitRunningJobs?: boolean } = {},
): JobService {
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
    options.limitRunningJobs
      ? {
          runningJobLimit: {
            slots: new DynamoDbJobSlotStore(dynamoClient(), tableName),
            runningJobsPerTenantMax,
          },
        }
      : {},
  )
}
