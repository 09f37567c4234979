// Runs inside a worker thread: one thread is one warm "Lambda instance". It imports
// handler modules from functions/ once and invokes them one event at a time, handing
// each a Lambda-like context. Results cross the thread boundary as JSON, like a real
// invocation's payload.
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parentPort, workerData } from 'node:worker_threads'
import type { Context } from 'aws-lambda'

export interface InvocationRequest {
  id: number
  handler: string
  event: unknown
  functionName: string
  timeoutMs: number
}

export type InvocationOutcome =
  | { ok: true; value: unknown }
  | { ok: false; error: { name: string; message: string; stack?: string } }

type Handler = (event: unknown, context: Context) => unknown

const rootDirectory: string = (workerData as { rootDirectory: string }).rootDirectory
const loaded = new Map<string, Promise<Handler>>()

/** `functions/map-worker.handler` → the `handler` export of functions/map-worker.ts. */
async function loadHandler(spec: string): Promise<Handler> {
  const dot = spec.lastIndexOf('.')
  const file = join(rootDirectory, `${spec.slice(0, dot)}.ts`)
  const exported = spec.slice(dot + 1)
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>
  const handler = module[exported]
  if (typeof handler !== 'function')
    throw new Error(`${file} does not export a function ${exported}`)
  return handler as Handler
}

function lambdaContext(request: InvocationRequest): Context {
  const deadline = Date.now() + request.timeoutMs
  const unsupported = () => {
    throw new Error('callback-style completion is not supported; return a promise')
  }
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: request.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${request.functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${request.functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  }
}

parentPort?.on('message', async (request: InvocationRequest) => {
  let outcome: InvocationOutcome
  try {
    let handler = loaded.get(request.handler)
    if (!handler) {
      handler = loadHandler(request.handler)
      loaded.set(request.handler, handler)
    }
    const value = await (await handler)(request.event, lambdaContext(request))
    outcome = {
      ok: true,
      value: value === undefined ? undefined : JSON.parse(JSON.stringify(value)),
    }
  } catch (error) {
    const { name, message, stack } = error instanceof Error ? error : new Error(String(error))
    outcome = { ok: false, error: { name, message, ...(stack && { stack }) } }
  }
  parentPort?.postMessage({ id: request.id, outcome })
})
