// meridian kv get|put|delete|cas: versioned values. A version is the item's ETag without
// quotes; --if-match makes a write conditional on it (412 → exit 4). `cas` replaces a value
// only while it still is the expected one: read, compare, then a write conditional on the
// version read, so a concurrent change in between is a conflict, never lost.
import { readFile } from 'node:fs/promises'
import { pathParameter } from '@meridian/client'
import type { Command } from 'commander'
import { CliError, type Context, ExitCode, expectStatus, type WithContext } from '../context'
import { nonNegativeInteger, usage } from '../parse'

const etag = (version: number) => `"${version}"`
const versionOf = (etagHeader: string | null) => Number(etagHeader?.replace(/"/g, '') ?? Number.NaN)

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

async function read(context: Context, key: string) {
  const response = await context.client.kv[':key'].$get({
    param: { key: pathParameter(key) },
    header: {},
  })
  const ok = await expectStatus(response, 200)
  return {
    bytes: new Uint8Array(await ok.arrayBuffer()),
    version: versionOf(ok.headers.get('etag')),
    contentType: ok.headers.get('content-type') ?? 'application/octet-stream',
  }
}

async function write(
  context: Context,
  key: string,
  body: Uint8Array,
  options: { ifMatch?: number; ifAbsent?: boolean; fence?: number; contentType?: string },
) {
  const response = await context.client.kv[':key'].$put(
    {
      param: { key: pathParameter(key) },
      header: {
        ...(options.ifMatch !== undefined && { 'if-match': etag(options.ifMatch) }),
        ...(options.ifAbsent && { 'if-none-match': '*' as const }),
        ...(options.fence !== undefined && { 'meridian-fence': String(options.fence) }),
        'content-type': options.contentType ?? 'application/octet-stream',
      },
    },
    { init: { body: new Blob([new Uint8Array(body)]) } },
  )
  const ok = await expectStatus(response, 200, 201)
  return (await ok.json()) as { key: string; version: number }
}

export function kvCommands(program: Command, withContext: WithContext) {
  const kv = program.command('kv').description('read and write versioned values')

  kv.command('get <key>')
    .description('print a value (its bytes; with --json, its version and UTF-8 text)')
    .action(
      withContext(async (context, key: string) => {
        const value = await read(context, key)
        if (context.json) {
          context.print({
            key,
            version: value.version,
            contentType: value.contentType,
            value: Buffer.from(value.bytes).toString('utf8'),
          })
        } else {
          // The bytes exactly (pipe them anywhere); the version is for the person at a terminal.
          process.stdout.write(value.bytes)
          if (process.stdout.isTTY) process.stdout.write('\n')
          if (process.stderr.isTTY) process.stderr.write(`version ${value.version}\n`)
        }
      }),
    )

  kv.command('put <key> [value]')
    .description('store a value from the argument, --file, or stdin')
    .option('--file <path>', 'read the value from a file')
    .option('--if-match <version>', 'only if the current version is this one')
    .option('--if-absent', 'only if the key has no value')
    .option('--fence <token>', 'a fencing token (from `meridian lock acquire`)')
    .option('--content-type <type>', 'stored with the value', 'application/octet-stream')
    .action(
      withContext(
        async (
          context,
          key: string,
          value: string | undefined,
          options: {
            file?: string
            ifMatch?: string
            ifAbsent?: boolean
            fence?: string
            contentType: string
          },
        ) => {
          if (value !== undefined && options.file !== undefined)
            throw usage('give the value as an argument or --file, not both')
          const body =
            value !== undefined
              ? new TextEncoder().encode(value)
              : options.file !== undefined
                ? new Uint8Array(await readFile(options.file))
                : await readStdin()
          const written = await write(context, key, body, {
            ...(options.ifMatch !== undefined && {
              ifMatch: nonNegativeInteger(options.ifMatch, '--if-match'),
            }),
            ...(options.ifAbsent && { ifAbsent: true }),
            ...(options.fence !== undefined && {
              fence: nonNegativeInteger(options.fence, '--fence'),
            }),
            contentType: options.contentType,
          })
          context.print(written, () => `stored ${key} at version ${written.version}`)
        },
      ),
    )

  kv.command('delete <key>')
    .description('delete a value')
    .option('--if-match <version>', 'only if the current version is this one')
    .option('--fence <token>', 'a fencing token')
    .action(
      withContext(async (context, key: string, options: { ifMatch?: string; fence?: string }) => {
        const response = await context.client.kv[':key'].$delete({
          param: { key: pathParameter(key) },
          header: {
            ...(options.ifMatch !== undefined && {
              'if-match': etag(nonNegativeInteger(options.ifMatch, '--if-match')),
            }),
            ...(options.fence !== undefined && {
              'meridian-fence': String(nonNegativeInteger(options.fence, '--fence')),
            }),
          },
        })
        await expectStatus(response, 204)
        context.print({ key, deleted: true }, () => `deleted ${key}`)
      }),
    )

  kv.command('cas <key>')
    .description('replace the value --from with --to, only while it still is --from')
    .requiredOption('--from <value>', 'the value expected now')
    .requiredOption('--to <value>', 'the value to store')
    .action(
      withContext(async (context, key: string, options: { from: string; to: string }) => {
        const current = await read(context, key)
        const text = Buffer.from(current.bytes).toString('utf8')
        if (text !== options.from) {
          throw new CliError(
            `${key} is ${JSON.stringify(text)} at version ${current.version}, not ${JSON.stringify(options.from)}`,
            ExitCode.conflict,
            { key, version: current.version, value: text },
          )
        }
        const written = await write(context, key, new TextEncoder().encode(options.to), {
          ifMatch: current.version,
          contentType: current.contentType,
        })
        context.print(
          { ...written, previousVersion: current.version },
          () => `swapped ${key}: version ${current.version} → ${written.version}`,
        )
      }),
    )
}
