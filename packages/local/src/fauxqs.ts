// Runs fauxqs (an SQS/S3 emulator speaking the real AWS protocols) inside this process,
// so it can't outlive it. Queues are in memory (the runtime re-sends lost task messages
// from DynamoDB at start); S3 objects are in memory too, or, with `s3Directory`, also in
// files that survive a restart (file-backed-s3-store.ts).
import { type BuildAppOptions, buildApp } from 'fauxqs'
import type { RunningEngine } from './dynamodb-local'
import { fileBackedS3Store } from './file-backed-s3-store'

export async function startFauxqs(options: {
  port: number
  region: string
  /** Keep S3 objects in files under this directory. */
  s3Directory?: string
}): Promise<RunningEngine> {
  // fauxqs makes each store it isn't given; only the S3 one is replaced.
  const stores = options.s3Directory
    ? ({ s3Store: fileBackedS3Store(options.s3Directory) } as unknown as BuildAppOptions['stores'])
    : undefined
  const app = buildApp({ logger: false, defaultRegion: options.region, stores })
  const endpoint = await app.listen({ port: options.port, host: '127.0.0.1' })
  return { endpoint, stop: () => app.close() }
}
