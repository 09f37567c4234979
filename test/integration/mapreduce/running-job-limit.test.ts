// The limit on a tenant's concurrently running jobs, on DynamoDB Local, S3 and SQS (fauxqs):
// concurrent submits never hold more slots than the limit, a finished job's slot goes to the
// next submit, a crashed submit's claim is taken after the creation grace, a submit that
// fails gives its slot back, and over HTTP the answer is a 429 problem. The jobs' queues are
// created for this file and nobody polls them, so every submitted job stays running until
// the test ends it.
import { coordinationTable, dataBucket, dynamoClient, s3Client, sqsClient } from '@meridian/aws'
import { linkedName } from '@meridian/aws/linked'
import { createOrUpdateQueue } from '@meridian/local'
import {
  awsMapReduceDependencies,
  DynamoDbJobSlotStore,
  JobService,
  type RunningJobLimit,
  slotCreationGraceMsDefault,
  TooManyRunningJobsError,
} from '@meridian/mapreduce'
import { beforeAll, describe, expect, it } from 'vitest'
import { runningJobsPerTenantMax } from '../../../functions/mapreduce-service'
import { app, bearer, createKey, expectProblem, uniqueTenant } from '../api/support'

const coordinationTableName = linkedName(coordinationTable.resource)
const slots = new DynamoDbJobSlotStore(dynamoClient(), coordinationTableName)
let queues: { map: string; reduce: string }

beforeAll(async () => {
  const name = `job-limit-${Date.now().toString(36)}`
  const [map, reduce] = await Promise.all(
    ['map', 'reduce'].map((stage) => createOrUpdateQueue(sqsClient(), `${name}-${stage}`, {})),
  )
  queues = { map: map!.url, reduce: reduce!.url }
})

function limitedService(
  runningJobsMax: number,
  options: { clock?: () => number; bucketName?: string } = {},
): JobService {
  const limit: RunningJobLimit = { slots, runningJobsPerTenantMax: runningJobsMax }
  const dependencies = awsMapReduceDependencies({
    dynamodb: dynamoClient(),
    sqs: sqsClient(),
    s3: s3Client(),
    tableName: coordinationTableName,
    bucketName: options.bucketName ?? linkedName(dataBucket.resource),
    mapQueueUrl: queues.map,
    reduceQueueUrl: queues.reduce,
  })
  return new JobService(
    { ...dependencies, ...(options.clock && { clock: options.clock }) },
    { runningJobLimit: limit },
  )
}

const spec = { job: 'word-count', input: { records: ['one two two'] } }

describe("a tenant's running jobs are limited", () => {
  it('never lets concurrent submits run more jobs than the limit', async () => {
    const tenant = uniqueTenant('limit')
    const service = limitedService(3)
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, index) =>
        service.submit(tenant, spec, { jobId: `contender-${index}` }),
      ),
    )
    const started = results.filter((result) => result.status === 'fulfilled')
    const refused = results.filter((result) => result.status === 'rejected')
    expect(started).toHaveLength(3)
    expect(refused).toHaveLength(5)
    for (const result of refused) expect(result.reason).toBeInstanceOf(TooManyRunningJobsError)

    const held = await slots.list(tenant)
    expect(held.map((claim) => claim.jobId).sort()).toEqual(
      started.map((result) => result.value.id).sort(),
    )
  })

  it("gives a finished job's slot to the next submit, and a retried submit keeps its own", async () => {
    const tenant = uniqueTenant('limit')
    const service = limitedService(2)
    const first = await service.submit(tenant, spec, { jobId: 'first' })
    await service.submit(tenant, spec, { jobId: 'second' })
    await expect(service.submit(tenant, spec, { jobId: 'third' })).rejects.toBeInstanceOf(
      TooManyRunningJobsError,
    )
    // The same job submitted again (a redelivered event) is the running job, not a new one.
    expect((await service.submit(tenant, spec, { jobId: 'second' })).state).toBe('RUNNING')

    await service.cancel(tenant, first.id)
    const third = await service.submit(tenant, spec, { jobId: 'third' })
    expect(third.state).toBe('RUNNING')
    expect((await slots.list(tenant)).map((claim) => claim.jobId).sort()).toEqual([
      'second',
      'third',
    ])
  })

  it('keeps one slot for a job submitted twice at once (a redelivered event, a retry)', async () => {
    const tenant = uniqueTenant('limit')
    const service = limitedService(3)
    const views = await Promise.all(
      Array.from({ length: 4 }, () => service.submit(tenant, spec, { jobId: 'twice' })),
    )
    expect(new Set(views.map((view) => view.id))).toEqual(new Set(['twice']))
    expect((await slots.list(tenant)).map((claim) => claim.jobId)).toEqual(['twice'])
  })

  it('refuses a limit that is not an integer of at least 1', () => {
    for (const runningJobsMax of [0, Number.NaN, 2.5]) {
      expect(() => limitedService(runningJobsMax)).toThrow(RangeError)
    }
  })

  it('takes the slot of a submit that crashed before creating its job, after the grace', async () => {
    const tenant = uniqueTenant('limit')
    const startedAtMs = Date.now()
    await slots.claim(tenant, { index: 0, jobId: 'crashed-submit', claimedAtMs: startedAtMs })

    const soon = limitedService(1, { clock: () => startedAtMs + 1_000 })
    await expect(soon.submit(tenant, spec, { jobId: 'early' })).rejects.toBeInstanceOf(
      TooManyRunningJobsError,
    )
    const afterGrace = limitedService(1, {
      clock: () => startedAtMs + slotCreationGraceMsDefault + 1_000,
    })
    expect((await afterGrace.submit(tenant, spec, { jobId: 'late' })).state).toBe('RUNNING')
    expect(await slots.list(tenant)).toMatchObject([{ index: 0, jobId: 'late' }])
  })

  it('gives the slot back when the submit fails before its job exists', async () => {
    const tenant = uniqueTenant('limit')
    // S3 refuses the inputs (no such bucket): the job is never created.
    const failing = limitedService(1, { bucketName: `missing-${Date.now().toString(36)}` })
    await expect(failing.submit(tenant, spec, { jobId: 'doomed' })).rejects.toThrow()
    expect(await slots.list(tenant)).toEqual([])
    expect((await limitedService(1).submit(tenant, spec, { jobId: 'next' })).state).toBe('RUNNING')
  })

  it('answers POST /jobs over the limit with a 429 too-many-running-jobs problem', async () => {
    const tenant = uniqueTenant('limit-http')
    const { key } = await createKey(tenant, ['jobs'])
    // Every slot of the deployed limit is held by a submit still within its creation grace.
    for (let index = 0; index < runningJobsPerTenantMax; index++) {
      await slots.claim(tenant, { index, jobId: `in-flight-${index}`, claimedAtMs: Date.now() })
    }
    const response = await app.request('/jobs', {
      method: 'POST',
      headers: { ...bearer(key), 'content-type': 'application/json' },
      body: JSON.stringify(spec),
    })
    expect(response.status).toBe(429)
    expect(response.headers.get('retry-after')).toBe('30')
    const problem = await expectProblem(response)
    expect(problem).toMatchObject({
      type: 'urn:meridian:problem:too-many-running-jobs',
      runningJobsMax: runningJobsPerTenantMax,
    })
  })
})
