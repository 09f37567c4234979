// Emulates S3 event notifications to Lambda (bucket.notify in infra) for the local
// runtime. fauxqs has no bucket notifications, so this watches the bucket instead: it
// lists each notification's prefix (every page) on a short interval and, for every object
// created since the last listing (a new key, or a new ETag for an existing key), invokes
// the handler through the worker pool with an `s3:ObjectCreated:Put` S3Event, as S3 does.
// An upload through the API, the SDK or any client is seen the same way. Objects present
// when the watcher starts are not announced (S3 notifies only on creation). A failed
// invocation is retried twice, as Lambda retries asynchronous invocations.
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import type { BucketNotification } from '@meridian/aws'
import type { S3Event } from 'aws-lambda'
import type { InvocationOptions, InvocationOutcome } from './worker-pool'

export interface S3NotificationWatcherOptions {
  s3: S3Client
  bucket: string
  region: string
  notifications: readonly BucketNotification[]
  invoke: (
    handler: string,
    event: unknown,
    options: InvocationOptions,
  ) => Promise<InvocationOutcome>
  intervalMs?: number
  onInvocationError?: (
    notification: BucketNotification,
    error: { name: string; message: string },
  ) => void
}

const invocationAttemptsMax = 3

export class S3NotificationWatcher {
  private readonly seen = new Map<string, string>()
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = false

  constructor(private readonly options: S3NotificationWatcherOptions) {}

  async start(): Promise<void> {
    // Existing objects are the baseline: only later creations notify.
    await this.scan(false)
    this.arm()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.running
  }

  private arm(): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.running = this.scan(true)
        .catch(() => undefined)
        .finally(() => this.arm())
    }, this.options.intervalMs ?? 250)
  }

  private async scan(notify: boolean): Promise<void> {
    for (const notification of this.options.notifications) {
      const created: Array<{ key: string; size: number; eTag: string }> = []
      let token: string | undefined
      do {
        const page = await this.options.s3.send(
          new ListObjectsV2Command({
            Bucket: this.options.bucket,
            Prefix: notification.filterPrefix,
            ContinuationToken: token,
          }),
        )
        for (const object of page.Contents ?? []) {
          if (!object.Key) continue
          const eTag = object.ETag ?? ''
          if (this.seen.get(object.Key) === eTag) continue
          this.seen.set(object.Key, eTag)
          created.push({ key: object.Key, size: object.Size ?? 0, eTag })
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token)
      if (notify) {
        for (const object of created) await this.deliver(notification, object)
      }
    }
  }

  private async deliver(
    notification: BucketNotification,
    object: { key: string; size: number; eTag: string },
  ): Promise<void> {
    const event = s3Event(this.options.bucket, this.options.region, notification.name, object)
    for (let attempt = 1; attempt <= invocationAttemptsMax; attempt++) {
      const outcome = await this.options.invoke(notification.handler, event, {
        functionName: notification.name,
        timeoutMs: notification.timeoutSeconds * 1000,
      })
      if (outcome.ok) return
      this.options.onInvocationError?.(notification, outcome.error)
    }
  }
}

/** The event S3 sends for one created object (keys URL-encoded, '+' for spaces). */
export function s3Event(
  bucket: string,
  region: string,
  configurationId: string,
  object: { key: string; size: number; eTag: string },
  now = new Date(),
): S3Event {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: now.toISOString(),
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'local' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': 'local', 'x-amz-id-2': 'local' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId,
          bucket: {
            name: bucket,
            ownerIdentity: { principalId: 'local' },
            arn: `arn:aws:s3:::${bucket}`,
          },
          object: {
            key: encodeURIComponent(object.key).replace(/%2F/g, '/').replace(/%20/g, '+'),
            size: object.size,
            eTag: object.eTag.replace(/"/g, ''),
            sequencer: now.getTime().toString(16).toUpperCase().padStart(16, '0'),
          },
        },
      },
    ],
  }
}
