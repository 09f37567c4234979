// meridian jobs list|submit|status|output|cancel|upload. `submit --watch` follows the job's
// server-sent events (GET /jobs/:id/events), reconnecting with Last-Event-ID when a stream
// ends before the job does, and draws stage, tasks done/total and elapsed time as a
// progress bar on stderr; it ends with the job's result (exit 1 unless it SUCCEEDED).
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { type InferResponseType, type MeridianClient, pathParameter } from '@meridian/client'
import cliProgress from 'cli-progress'
import type { Command } from 'commander'
import {
  CliError,
  type Context,
  color,
  ExitCode,
  expectStatus,
  listPages,
  table,
  type WithContext,
} from '../context'
import { assignment, collect, positiveInteger, usage } from '../parse'

type Job = InferResponseType<MeridianClient['jobs'][':id']['$get'], 200>

const jobStates = ['RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const
type JobState = (typeof jobStates)[number]

function stateColor(state: string): string {
  if (state === 'SUCCEEDED') return color.green(state)
  if (state === 'RUNNING') return color.cyan(state)
  return color.red(state)
}

function jobLine(job: Job): string {
  return [
    `${job.id}  ${job.job}  ${stateColor(job.state)}`,
    `  stage ${job.stage} (round ${job.round}): ${job.tasks.done}/${job.tasks.total} tasks`,
    `  records in ${job.counters.recordsIn ?? 0}, out ${job.counters.recordsOut ?? 0}; est. cost $${job.cost.totalUsd.toFixed(6)}`,
    ...(job.failure ? [`  failure: ${job.failure}`] : []),
    ...(job.output ? [`  output: ${job.output.parts} parts (meridian jobs output ${job.id})`] : []),
    `  created ${job.createdAt}, updated ${job.updatedAt}`,
  ].join('\n')
}

async function getJob(context: Context, id: string): Promise<Job> {
  const response = await context.client.jobs[':id'].$get({ param: { id } })
  return (await expectStatus(response, 200)).json()
}

/** Reads one SSE stream, calling onEvent per event; resolves with the last event's name. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: { event: string; data: string; id?: string }) => void,
): Promise<void> {
  const decoder = new TextDecoder()
  let buffer = ''
  let current: { event: string; data: string[]; id?: string } = { event: 'message', data: [] }
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true })
    let newline = buffer.indexOf('\n')
    while (newline >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, '')
      buffer = buffer.slice(newline + 1)
      if (line === '') {
        if (current.data.length > 0 || current.event !== 'message')
          onEvent({
            event: current.event,
            data: current.data.join('\n'),
            ...(current.id && { id: current.id }),
          })
        current = { event: 'message', data: [] }
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':')
        const field = colon < 0 ? line : line.slice(0, colon)
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (field === 'event') current.event = value
        else if (field === 'data') current.data.push(value)
        else if (field === 'id') current.id = value
      }
      newline = buffer.indexOf('\n')
    }
  }
}

/** Follows the job until it ends; returns its final state. */
async function watch(context: Context, first: Job): Promise<Job> {
  const startedMs = Date.parse(first.createdAt) || Date.now()
  const bar =
    context.json || !process.stderr.isTTY
      ? undefined
      : new cliProgress.SingleBar(
          {
            format: `{stage} ${color.cyan('{bar}')} {value}/{total} tasks | {elapsed}s | {state}`,
            stream: process.stderr,
            hideCursor: true,
            clearOnComplete: false,
          },
          cliProgress.Presets.shades_classic,
        )
  let job = first
  let lastLine = ''
  const elapsed = () => ((Date.now() - startedMs) / 1000).toFixed(1)
  const show = () => {
    const payload = { stage: `${job.stage} r${job.round}`, state: job.state, elapsed: elapsed() }
    if (bar) {
      bar.setTotal(Math.max(1, job.tasks.total))
      bar.update(job.tasks.done, payload)
    } else if (!context.json) {
      // Without a terminal, one line per change of progress.
      const line = `${payload.stage}: ${job.tasks.done}/${job.tasks.total} tasks | ${job.state}`
      if (line !== lastLine) process.stderr.write(`${line} | ${payload.elapsed}s\n`)
      lastLine = line
    }
  }
  bar?.start(Math.max(1, job.tasks.total), job.tasks.done, {
    stage: `${job.stage} r${job.round}`,
    state: job.state,
    elapsed: elapsed(),
  })
  let lastEventId: string | undefined
  // Bounded: each stream lasts up to its timeout, and a job that outlives them all is
  // reported as still running rather than watched forever.
  for (let stream = 0; stream < 1000 && job.state === 'RUNNING'; stream++) {
    const response = await context.client.jobs[':id'].events.$get(
      { param: { id: job.id }, query: { timeoutSeconds: '60', intervalMs: '250' } },
      lastEventId ? { headers: { 'last-event-id': lastEventId } } : undefined,
    )
    const ok = await expectStatus(response, 200)
    if (!ok.body) break
    let ended = false
    await readEvents(ok.body, (event) => {
      if (event.event === 'progress') {
        job = JSON.parse(event.data) as Job
        if (event.id) lastEventId = event.id
        show()
      } else if (event.event === 'end') {
        ended = true
      }
    })
    if (ended) job = await getJob(context, job.id)
  }
  show()
  bar?.stop()
  return job
}

async function submit(context: Context, spec: Record<string, unknown>): Promise<Job> {
  const response = await context.client.jobs.$post({ json: spec as never })
  return (await expectStatus(response, 201)).json()
}

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true })
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort()
}

export function jobCommands(program: Command, withContext: WithContext) {
  const jobs = program.command('jobs').description('MapReduce jobs')

  jobs
    .command('list')
    .description("the tenant's jobs, newest first")
    .option('--state <state>', `only jobs in this state: ${jobStates.join(', ')}`)
    .option('--limit <count>', 'jobs per page (1–100)', '20')
    .option('--all', 'follow every page')
    .action(
      withContext(async (context, options: { state?: string; limit: string; all?: boolean }) => {
        if (options.state !== undefined && !jobStates.includes(options.state as JobState))
          throw usage(`--state: one of ${jobStates.join(', ')}`)
        const { items, nextCursor: cursor } = await listPages(async (cursor) => {
          const response = await context.client.jobs.$get({
            query: {
              limit: String(positiveInteger(options.limit, '--limit')),
              ...(options.state && { state: options.state as JobState }),
              ...(cursor && { cursor }),
            },
          })
          return (await expectStatus(response, 200)).json()
        }, options.all === true)
        context.print(
          { items, nextCursor: cursor },
          () =>
            table([
              ['ID', 'JOB', 'STATE', 'STAGE', 'TASKS', 'CREATED'],
              ...items.map((job) => [
                job.id,
                job.job,
                stateColor(job.state),
                `${job.stage} r${job.round}`,
                `${job.tasks.done}/${job.tasks.total}`,
                job.createdAt,
              ]),
            ]) + (cursor ? `\n${color.dim('(more: --all)')}` : ''),
        )
      }),
    )

  jobs
    .command('submit <job>')
    .description('submit a registered job (word-count, inverted-index, linear-regression, …)')
    .option('--input-dir <dir>', 'input: upload the files under DIR first (a new prefix)')
    .option('--prefix <prefix>', 'input: objects under this prefix (see jobs upload)')
    .option('--records-file <file>', 'input: one record per line of this file')
    .option('--param <name=value>', 'a job parameter (JSON value or string; repeatable)', collect)
    .option('--partitions <count>', 'reduce partitions')
    .option('--watch', 'follow its progress until it ends')
    .action(
      withContext(
        async (
          context,
          name: string,
          options: {
            inputDir?: string
            prefix?: string
            recordsFile?: string
            param?: string[]
            partitions?: string
            watch?: boolean
          },
        ) => {
          const given = [options.inputDir, options.prefix, options.recordsFile]
          if (given.filter((option) => option !== undefined).length !== 1)
            throw usage('give the input as --input-dir, --prefix or --records-file (one of them)')
          let prefix = options.prefix
          if (options.inputDir !== undefined) {
            prefix = `cli/${new Date().toISOString().replace(/[:.]/g, '-')}`
            await uploadDirectory(context, options.inputDir, prefix, 8)
          }
          const input =
            prefix !== undefined
              ? { prefix }
              : {
                  records: (await readFile(options.recordsFile!, 'utf8'))
                    .split('\n')
                    .filter((line) => line.length > 0),
                }
          const params = Object.fromEntries(
            (options.param ?? []).map((text) => {
              const [key, value] = assignment(text, '--param')
              try {
                return [key, JSON.parse(value)]
              } catch {
                return [key, value]
              }
            }),
          )
          let job = await submit(context, {
            job: name,
            params,
            input,
            ...(options.partitions && {
              partitions: positiveInteger(options.partitions, '--partitions'),
            }),
          })
          if (!options.watch) {
            context.print(job, () => `submitted ${job.id} (${job.job}, ${job.state})`)
            return
          }
          context.note(`submitted ${job.id}`)
          job = await watch(context, job)
          context.print(job, () => jobLine(job))
          if (job.state !== 'SUCCEEDED') process.exitCode = ExitCode.error
        },
      ),
    )

  jobs
    .command('status <id>')
    .description('a job: state, stage, tasks, counters, cost')
    .option('--watch', 'follow its progress until it ends')
    .action(
      withContext(async (context, id: string, options: { watch?: boolean }) => {
        let job = await getJob(context, id)
        if (options.watch) job = await watch(context, job)
        context.print(job, () => jobLine(job))
      }),
    )

  jobs
    .command('output <id>')
    .description('the output of a succeeded job, as NDJSON [key, value] lines')
    .option('--part <n>', 'only this output part')
    .action(
      withContext(async (context, id: string, options: { part?: string }) => {
        const response = await context.client.jobs[':id'].output.$get({
          param: { id },
          query: options.part !== undefined ? { part: options.part } : {},
        })
        const ok = await expectStatus(response, 200)
        if (!ok.body) return
        for await (const chunk of ok.body as unknown as AsyncIterable<Uint8Array>)
          process.stdout.write(chunk)
      }),
    )

  jobs
    .command('cancel <id>')
    .description('cancel a running job')
    .action(
      withContext(async (context, id: string) => {
        const response = await context.client.jobs[':id'].$delete({ param: { id } })
        const job = await (await expectStatus(response, 200)).json()
        context.print(job, () => `cancelled ${job.id}`)
      }),
    )

  jobs
    .command('upload <dir>')
    .description("upload every file under DIR to the tenant's inputs, under --prefix")
    .requiredOption('--prefix <prefix>', 'where the files go (a job reads them with --prefix)')
    .option('--concurrency <count>', 'uploads at once', '8')
    .action(
      withContext(
        async (context, directory: string, options: { prefix: string; concurrency: string }) => {
          const prefix = options.prefix.replace(/\/+$/, '')
          const concurrency = positiveInteger(options.concurrency, '--concurrency')
          const { uploaded, bytes } = await uploadDirectory(context, directory, prefix, concurrency)
          context.print(
            { prefix, files: uploaded.length, bytes, objects: uploaded },
            () =>
              `uploaded ${uploaded.length} files (${bytes} bytes) under ${prefix}\n` +
              `run a job on them: meridian jobs submit word-count --prefix ${prefix} --watch`,
          )
        },
      ),
    )
}

/** Uploads every file under `directory` to the tenant's inputs under `prefix`, with a bar. */
async function uploadDirectory(
  context: Context,
  directory: string,
  prefix: string,
  concurrency: number,
): Promise<{ uploaded: Array<{ key: string; bytes: number }>; bytes: number }> {
  if (!(await stat(directory).catch(() => undefined))?.isDirectory())
    throw usage(`${directory} is not a directory`)
  const files = await filesUnder(directory)
  const bar =
    context.json || !process.stderr.isTTY
      ? undefined
      : new cliProgress.SingleBar(
          {
            format: `upload ${color.cyan('{bar}')} {value}/{total} files | {bytes} bytes`,
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        )
  bar?.start(files.length, 0, { bytes: 0 })
  let next = 0
  let bytes = 0
  const uploaded: Array<{ key: string; bytes: number }> = []
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++]!
      const path = `${prefix}/${relative(directory, file).split(sep).join('/')}`
      const body = new Uint8Array(await readFile(file))
      const response = await context.client.jobs.inputs[':path'].$put(
        { param: { path: pathParameter(path) } },
        { init: { body: new Blob([body]) } },
      )
      const stored = await (await expectStatus(response, 201)).json()
      uploaded.push(stored)
      bytes += stored.bytes
      bar?.increment(1, { bytes })
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker))
  } finally {
    bar?.stop()
  }
  if (files.length === 0) throw new CliError(`no files under ${directory}`, ExitCode.error)
  return { uploaded, bytes }
}
