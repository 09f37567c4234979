// Wires the DynamoDB, SQS and S3 adapters into MapReduce's dependencies. Callers pass
// clients and names (functions/ read them through SST's Resource).
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { S3Client } from '@aws-sdk/client-s3'
import type { SQSClient } from '@aws-sdk/client-sqs'
import { builtinJobs } from './builtin-jobs'
import { DynamoDbJobStore } from './dynamodb-job-store'
import type { JobRegistry } from './job-definition'
import { S3BlobStore } from './s3-blob-store'
import { SqsTaskQueue } from './sqs-task-queue'
import type { MapReduceDependencies, TaskHooks } from './task-runner'

export interface AwsMapReduceOptions {
  dynamodb: DynamoDBClient
  sqs: SQSClient
  s3: S3Client
  /** The coordination table (Resource.Coordination.name). */
  tableName: string
  bucketName: string
  mapQueueUrl: string
  reduceQueueUrl: string
  registry?: JobRegistry
  hooks?: TaskHooks
}

export function awsMapReduceDependencies(options: AwsMapReduceOptions): MapReduceDependencies {
  return {
    jobs: new DynamoDbJobStore(options.dynamodb, options.tableName),
    queue: new SqsTaskQueue(options.sqs, {
      map: options.mapQueueUrl,
      reduce: options.reduceQueueUrl,
    }),
    blobs: new S3BlobStore(options.s3, options.bucketName),
    registry: options.registry ?? builtinJobs(),
    ...(options.hooks && { hooks: options.hooks }),
  }
}
