// The job store on the coordination table. Items of one job share a partition:
//   pk `mapreduce#<tenant>#<jobId>`, sk `job`                  the job
//   pk `mapreduce#<tenant>#<jobId>`, sk `done#r0000#map#00003`  a counted task (TTL'd)
// A running job also carries gsi1pk `mapreduce#running` and gsi1sk `<attentionAtMs>#…`,
// so the sweeper lists running jobs oldest-first through the sparse `attention` index
// without a scan; the attributes are removed when the job ends. Every job also carries
// gsi2pk `mapreduce#jobs#<tenant>` and gsi2sk `<createdAtMs>#<jobId>` for good, so the
// `tenantListing` index pages through one tenant's jobs newest first with a Query.
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb'
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb'
import { InvalidCursorError, JobConditionError, JobExistsError } from './errors'
import {
  type Counters,
  counterNames,
  type JobRecord,
  JobState,
  jobIdPattern,
  type StageRef,
  stageKey,
  type TaskRef,
  taskId,
} from './job-model'
import type {
  CompletionOutcome,
  JobListQuery,
  JobPage,
  JobStore,
  NextStage,
  RunningJobSummary,
} from './ports'

const attentionPartition = 'mapreduce#running'
const doneMarkerRetentionSeconds = 7 * 24 * 3600

const jobKey = (tenant: string, jobId: string) => ({
  pk: `mapreduce#${tenant}#${jobId}`,
  sk: 'job',
})
const doneKey = (task: TaskRef) => ({
  pk: jobKey(task.tenant, task.jobId).pk,
  sk: `done#${taskId(task)}`,
})
const attentionSortKey = (atMs: number, tenant: string, jobId: string) =>
  `${String(atMs).padStart(15, '0')}#${tenant}#${jobId}`
const listingPartition = (tenant: string) => `mapreduce#jobs#${tenant}`
const listingSortKey = (createdAtMs: number, jobId: string) =>
  `${String(createdAtMs).padStart(15, '0')}#${jobId}`
/** Index pages one listing request reads at most while a state filter skips jobs. */
const listingPagesMax = 10

// Named parts of the conditions every coordination write is built from.
const isRunning = '#state = :running'
const inStage = '#stageKey = :stageKey'
const stageComplete = '#stageDone = #stageTotal'

export class DynamoDbJobStore implements JobStore {
  private readonly documents: DynamoDBDocumentClient

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    })
  }

  async create(job: JobRecord): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...jobKey(job.tenant, job.jobId),
            ...job,
            stageKey: stageKey(job),
            gsi1pk: attentionPartition,
            gsi1sk: attentionSortKey(job.stageStartedAtMs, job.tenant, job.jobId),
            gsi2pk: listingPartition(job.tenant),
            gsi2sk: listingSortKey(job.createdAtMs, job.jobId),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error
      const current = await this.get(job.tenant, job.jobId)
      if (!current) throw error
      throw new JobExistsError(current, { cause: error })
    }
  }

  async get(tenant: string, jobId: string): Promise<JobRecord | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: jobKey(tenant, jobId),
        ConsistentRead: true,
      }),
    )
    return Item ? toJobRecord(Item) : undefined
  }

  async isTaskDone(task: TaskRef): Promise<boolean> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: doneKey(task),
        ConsistentRead: true,
        ProjectionExpression: 'pk',
      }),
    )
    return Item !== undefined
  }

  async doneTasks(tenant: string, jobId: string, stage: StageRef): Promise<Set<number>> {
    const done = new Set<number>()
    let startKey: Record<string, unknown> | undefined
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': jobKey(tenant, jobId).pk,
            ':prefix': `done#${stageKey(stage)}#`,
          },
          ProjectionExpression: 'sk',
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      )
      for (const item of page.Items ?? []) {
        done.add(Number(String(item.sk).slice(String(item.sk).lastIndexOf('#') + 1)))
      }
      startKey = page.LastEvaluatedKey
    } while (startKey)
    return done
  }

  async completeTask(
    task: TaskRef,
    counters: Partial<Counters>,
    nowMs: number,
  ): Promise<CompletionOutcome> {
    const added = counterNames.filter((name) => (counters[name] ?? 0) !== 0)
    const values: Record<string, unknown> = {
      ':one': 1,
      ':running': JobState.running,
      ':stageKey': stageKey(task),
      ':now': nowMs,
    }
    const names: Record<string, string> = {
      '#state': 'state',
      '#stageKey': 'stageKey',
      '#stageDone': 'stageDone',
      '#counters': 'counters',
    }
    const additions = added.map((name, index) => {
      names[`#c${index}`] = name
      values[`:c${index}`] = counters[name]
      return `#counters.#c${index} :c${index}`
    })
    try {
      await this.documents.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...doneKey(task),
                  completedAtMs: nowMs,
                  expiresAt: Math.floor(nowMs / 1000) + doneMarkerRetentionSeconds,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: jobKey(task.tenant, task.jobId),
                UpdateExpression: `ADD ${['#stageDone :one', ...additions].join(', ')} SET updatedAtMs = :now`,
                ConditionExpression: `${isRunning} AND ${inStage}`,
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: values,
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
          ],
        }),
      )
      return 'counted'
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error
      const [marker, job] = error.CancellationReasons ?? []
      if (marker?.Code === 'ConditionalCheckFailed') return 'duplicate'
      if (job?.Code === 'ConditionalCheckFailed') {
        const current = await this.get(task.tenant, task.jobId)
        throw new JobConditionError(
          `job ${task.jobId} is not running stage ${stageKey(task)}`,
          current,
          { cause: error },
        )
      }
      throw error
    }
  }

  async advanceStage(job: JobRecord, next: NextStage, nowMs: number): Promise<JobRecord> {
    const modelPart = next.model !== undefined ? ', model = :model' : ''
    return this.conditionalUpdate(job.tenant, job.jobId, {
      update:
        'SET #round = :round, #stage = :stage, #stageKey = :nextStageKey, #stageTotal = :total, #stageDone = :zero, ' +
        `stageStartedAtMs = :now, updatedAtMs = :now, launchedBy = :launchedBy, launchConfirmed = :false, stageSweeps = :zero, gsi1sk = :attention${modelPart}`,
      condition: `${isRunning} AND ${inStage} AND ${stageComplete}`,
      names: {
        '#round': 'round',
        '#stage': 'stage',
        '#stageDone': 'stageDone',
        '#stageTotal': 'stageTotal',
      },
      values: {
        ':stageKey': stageKey(job),
        ':round': next.round,
        ':stage': next.stage,
        ':nextStageKey': stageKey(next),
        ':total': next.total,
        ':zero': 0,
        ':now': nowMs,
        ':launchedBy': next.launchedBy,
        ':false': false,
        ':attention': attentionSortKey(nowMs, job.tenant, job.jobId),
        ...(next.model !== undefined && { ':model': next.model }),
      },
      lost: `stage ${stageKey(job)} of job ${job.jobId} was advanced already`,
    })
  }

  async succeed(
    job: JobRecord,
    outputParts: number,
    model: unknown,
    nowMs: number,
  ): Promise<JobRecord> {
    const modelPart = model !== undefined ? ', model = :model' : ''
    return this.conditionalUpdate(job.tenant, job.jobId, {
      update: `SET #state = :succeeded, outputParts = :parts, updatedAtMs = :now${modelPart} REMOVE gsi1pk, gsi1sk`,
      condition: `${isRunning} AND ${inStage} AND ${stageComplete}`,
      names: { '#stageDone': 'stageDone', '#stageTotal': 'stageTotal' },
      values: {
        ':stageKey': stageKey(job),
        ':succeeded': JobState.succeeded,
        ':parts': outputParts,
        ':now': nowMs,
        ...(model !== undefined && { ':model': model }),
      },
      lost: `job ${job.jobId} finished already`,
    })
  }

  async confirmLaunch(job: JobRecord): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: jobKey(job.tenant, job.jobId),
          UpdateExpression: 'SET launchConfirmed = :true',
          ConditionExpression: inStage,
          ExpressionAttributeNames: { '#stageKey': 'stageKey' },
          ExpressionAttributeValues: { ':true': true, ':stageKey': stageKey(job) },
        }),
      )
    } catch (error) {
      // The stage moved on, which implies its tasks were delivered: nothing to confirm.
      if (!(error instanceof ConditionalCheckFailedException)) throw error
    }
  }

  fail(tenant: string, jobId: string, reason: string, nowMs: number): Promise<JobRecord> {
    return this.end(tenant, jobId, JobState.failed, nowMs, reason)
  }

  cancel(tenant: string, jobId: string, nowMs: number): Promise<JobRecord> {
    return this.end(tenant, jobId, JobState.cancelled, nowMs)
  }

  async recordRetry(task: TaskRef, error: string, nowMs: number): Promise<void> {
    await this.documents
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: jobKey(task.tenant, task.jobId),
          UpdateExpression: 'ADD #counters.retries :one SET lastError = :error, updatedAtMs = :now',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#counters': 'counters' },
          ExpressionAttributeValues: {
            ':one': 1,
            ':error': `${taskId(task)}: ${error}`.slice(0, 1000),
            ':now': nowMs,
          },
        }),
      )
      .catch((failure: unknown) => {
        if (!(failure instanceof ConditionalCheckFailedException)) throw failure
      })
  }

  async recordSweep(job: JobRecord, reenqueued: number, nowMs: number): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: jobKey(job.tenant, job.jobId),
          UpdateExpression:
            'ADD stageSweeps :one, #counters.speculativeTasks :count SET gsi1sk = :attention',
          ConditionExpression: `${isRunning} AND ${inStage}`,
          ExpressionAttributeNames: {
            '#state': 'state',
            '#stageKey': 'stageKey',
            '#counters': 'counters',
          },
          ExpressionAttributeValues: {
            ':one': 1,
            ':count': reenqueued,
            ':attention': attentionSortKey(nowMs, job.tenant, job.jobId),
            ':running': JobState.running,
            ':stageKey': stageKey(job),
          },
        }),
      )
    } catch (error) {
      // The stage completed meanwhile: the sweep was unnecessary, not wrong.
      if (!(error instanceof ConditionalCheckFailedException)) throw error
    }
  }

  /**
   * One page of the tenant's jobs, newest first. DynamoDB's Limit counts the items a Query
   * reads before its filter, so each read asks for at most the jobs still missing: a page
   * never overshoots and its cursor (the last key read) never skips one. A state filter
   * that skips many jobs may end a page early, with a cursor, after listingPagesMax reads.
   */
  async list(tenant: string, query: JobListQuery): Promise<JobPage> {
    let startKey = query.cursor === undefined ? undefined : decodeCursor(tenant, query.cursor)
    const jobs: JobRecord[] = []
    for (let page = 0; page < listingPagesMax && jobs.length < query.limit; page++) {
      const { Items, LastEvaluatedKey } = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'tenantListing',
          KeyConditionExpression: 'gsi2pk = :pk',
          ...(query.state !== undefined && {
            FilterExpression: '#state = :state',
            ExpressionAttributeNames: { '#state': 'state' },
          }),
          ExpressionAttributeValues: {
            ':pk': listingPartition(tenant),
            ...(query.state !== undefined && { ':state': query.state }),
          },
          ScanIndexForward: false,
          Limit: query.limit - jobs.length,
          ExclusiveStartKey: startKey,
        }),
      )
      for (const item of Items ?? []) jobs.push(toJobRecord(item))
      startKey = LastEvaluatedKey
      if (!startKey) break
    }
    return { jobs, nextCursor: startKey ? encodeCursor(startKey) : null }
  }

  async runningJobs(startedBeforeMs: number, limit: number): Promise<RunningJobSummary[]> {
    const { Items } = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'attention',
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk < :before',
        ExpressionAttributeValues: {
          ':pk': attentionPartition,
          ':before': attentionSortKey(startedBeforeMs, '', ''),
        },
        Limit: limit,
      }),
    )
    return (Items ?? []).map((item) => ({
      tenant: String(item.tenant),
      jobId: String(item.jobId),
      stageStartedAtMs: Number(item.stageStartedAtMs),
    }))
  }

  private async end(
    tenant: string,
    jobId: string,
    state: JobState,
    nowMs: number,
    reason?: string,
  ): Promise<JobRecord> {
    const reasonPart = reason !== undefined ? ', failure = :reason' : ''
    return this.conditionalUpdate(tenant, jobId, {
      update: `SET #state = :end, updatedAtMs = :now${reasonPart} REMOVE gsi1pk, gsi1sk`,
      condition: isRunning,
      names: {},
      values: {
        ':end': state,
        ':now': nowMs,
        ...(reason !== undefined && { ':reason': reason.slice(0, 2000) }),
      },
      lost: `job ${jobId} is not running`,
    })
  }

  private async conditionalUpdate(
    tenant: string,
    jobId: string,
    parts: {
      update: string
      condition: string
      names: Record<string, string>
      values: Record<string, unknown>
      lost: string
    },
  ): Promise<JobRecord> {
    const names: Record<string, string> = { '#state': 'state', ...parts.names }
    if (parts.update.includes('#stageKey') || parts.condition.includes('#stageKey'))
      names['#stageKey'] = 'stageKey'
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: jobKey(tenant, jobId),
          UpdateExpression: parts.update,
          ConditionExpression: `attribute_exists(pk) AND ${parts.condition}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':running': JobState.running, ...parts.values },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      return toJobRecord(Attributes ?? {})
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error
      // The SDK hands back ALL_OLD unconverted; one consistent read gives the typed item.
      throw new JobConditionError(parts.lost, await this.get(tenant, jobId), { cause: error })
    }
  }
}

function toJobRecord(item: Record<string, unknown>): JobRecord {
  const {
    pk: _pk,
    sk: _sk,
    gsi1pk: _gsi1pk,
    gsi1sk: _gsi1sk,
    gsi2pk: _gsi2pk,
    gsi2sk: _gsi2sk,
    stageKey: _stageKey,
    ...job
  } = item
  return job as unknown as JobRecord
}

// A cursor is the index key where a page stopped, base64url JSON. It is opaque to clients
// but not secret; decoding checks that it points into the asking tenant's own listing, so a
// forged one can't start a Query anywhere else (and a malformed one is a 400, not a 500).
function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify([key.pk, key.gsi2sk])).toString('base64url')
}

function decodeCursor(tenant: string, cursor: string): Record<string, string> {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch (error) {
    throw new InvalidCursorError({ cause: error })
  }
  const [pk, gsi2sk] = Array.isArray(parsed) && parsed.length === 2 ? parsed : []
  const jobId = typeof pk === 'string' ? pk.slice(`mapreduce#${tenant}#`.length) : ''
  if (
    typeof pk !== 'string' ||
    typeof gsi2sk !== 'string' ||
    !pk.startsWith(`mapreduce#${tenant}#`) ||
    !jobIdPattern.test(jobId) ||
    !gsi2sk.endsWith(`#${jobId}`) ||
    !/^\d{15}#/.test(gsi2sk)
  ) {
    throw new InvalidCursorError()
  }
  return { pk, sk: 'job', gsi2pk: listingPartition(tenant), gsi2sk }
}
