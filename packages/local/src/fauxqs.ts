// Runs fauxqs (an SQS/S3 emulator speaking the real AWS protocols) inside this process,
// so it can't outlive it. Its state is in memory only.
import { startFauxqs as startFauxqsServer } from 'fauxqs'
import type { RunningEngine } from './dynamodb-local'

export async function startFauxqs(options: {
  port: number
  region: string
}): Promise<RunningEngine> {
  const server = await startFauxqsServer({
    port: options.port,
    logger: false,
    defaultRegion: options.region,
  })
  return { endpoint: server.address, stop: () => server.stop() }
}
