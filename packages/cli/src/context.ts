// What every command shares: the typed client configured from --url/--key or
// MERIDIAN_URL/MERIDIAN_KEY, the output mode (--json for scripts, text for people), and the
// one way errors end the process: an exit code by kind, and a problem+json answer printed
// as one readable line on stderr.
import { type MeridianClient, meridianClient } from '@meridian/client'
import pc from 'picocolors'

/** The exit codes, documented in the README's CLI section. */
export const ExitCode = {
  ok: 0,
  error: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** An error that ends the command with a chosen exit code and a one-line message. */
export class CliError extends Error {
  override name = 'CliError'
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly details?: Record<string, unknown>,
  ) {
    super(message)
  }
}

export interface Problem {
  type: string
  title: string
  status: number
  detail?: string
  [extension: string]: unknown
}

/** A problem+json answer: its exit code follows the status (404 → 3, 409/412/428 → 4). */
export class ApiProblemError extends CliError {
  override name = 'ApiProblemError'
  constructor(readonly problem: Problem) {
    super(problemLine(problem), exitCodeOfStatus(problem.status), problem)
  }
}

export function exitCodeOfStatus(status: number): ExitCode {
  if (status === 404) return ExitCode.notFound
  if (status === 409 || status === 412 || status === 428) return ExitCode.conflict
  return ExitCode.error
}

/** `409 lock-held: Lock is held — lock "a" is held by … (owner=w fence=3)` */
export function problemLine(problem: Problem): string {
  const slug = problem.type.replace(/^urn:meridian:problem:/, '')
  const { type: _type, title, status, detail, instance: _instance, ...extensions } = problem
  const extra = Object.entries(extensions)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
  return `${status} ${slug}: ${title}${detail ? ` — ${detail}` : ''}${extra.length ? ` (${extra.join(' ')})` : ''}`
}

export interface GlobalOptions {
  url?: string
  key?: string
  json?: boolean
}

export interface Context {
  client: MeridianClient
  url: string
  key: string
  json: boolean
  /** A result: JSON on stdout with --json, else the text the command renders. */
  print(value: unknown, text?: () => string): void
  /** Progress and notes for people: stderr, and nothing with --json. */
  note(line: string): void
}

export function contextOf(options: GlobalOptions): Context {
  const url = options.url ?? process.env.MERIDIAN_URL
  const key = options.key ?? process.env.MERIDIAN_KEY
  if (!url) throw new CliError('no API URL: set MERIDIAN_URL or pass --url', ExitCode.usage)
  if (!key) throw new CliError('no API key: set MERIDIAN_KEY or pass --key', ExitCode.usage)
  const json = options.json === true
  return {
    client: meridianClient(url.replace(/\/+$/, ''), { apiKey: key, fetch: reachable }),
    url,
    key,
    json,
    print(value, text) {
      if (json || !text) process.stdout.write(`${JSON.stringify(value, null, json ? 0 : 2)}\n`)
      else process.stdout.write(`${text()}\n`)
    },
    note(line) {
      if (!json) process.stderr.write(`${line}\n`)
    },
  }
}

/** fetch, with "the API can't be reached" as a CliError instead of a stack trace. */
const reachable: typeof fetch = async (input, init) => {
  try {
    return await fetch(input, init)
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    const url = input instanceof Request ? input.url : String(input)
    throw new CliError(
      `cannot reach ${new URL(url).origin}: ${cause?.code ?? cause?.message ?? String(error)}`,
      ExitCode.error,
    )
  }
}

interface AnswerLike {
  status: number
  headers: Headers
  text(): Promise<string>
}

/**
 * The answer if its status is one of `expected`; otherwise its problem+json (or whatever it
 * carries) becomes an ApiProblemError. Narrows a typed-client answer to its success statuses.
 */
export async function expectStatus<R extends AnswerLike, S extends R['status']>(
  response: R,
  ...expected: S[]
): Promise<Narrowed<R, S>> {
  if ((expected as number[]).includes(response.status)) return response as Narrowed<R, S>
  throw await problemOf(response)
}

/** The answers with those statuses; an answer typed without per-status bodies stays as it is. */
type Narrowed<R, S> = [Extract<R, { status: S }>] extends [never] ? R : Extract<R, { status: S }>

export async function problemOf(response: AnswerLike): Promise<ApiProblemError> {
  const text = await response.text()
  try {
    const parsed = JSON.parse(text) as Problem
    if (typeof parsed.type === 'string' && typeof parsed.status === 'number')
      return new ApiProblemError(parsed)
  } catch {
    // Not JSON: report the status and the start of the body below.
  }
  return new ApiProblemError({
    type: 'urn:meridian:problem:unexpected-answer',
    title: `HTTP ${response.status}`,
    status: response.status,
    detail: text.slice(0, 200),
  })
}

export const color = pc

/** Formats rows as aligned columns (the header row first). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = []
  for (const row of rows)
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, visibleLength(cell))
    })
  return rows
    .map((row, rowIndex) => {
      const line = row
        .map((cell, index) =>
          index === row.length - 1 ? cell : cell + ' '.repeat(widths[index]! - visibleLength(cell)),
        )
        .join('  ')
      return rowIndex === 0 ? pc.bold(line) : line
    })
    .join('\n')
}

function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
  return text.replace(/\u001b\[[0-9;]*m/g, '').length
}

/** A command's action with the context built from the global options first. */
export type ContextAction = (context: Context, ...args: never[]) => Promise<void>
export type WithContext = (run: ContextAction) => (...args: unknown[]) => Promise<void>

/** A page of a cursor listing, as GET /jobs and GET /locks answer. */
export interface ListingPage<Item> {
  items: Item[]
  nextCursor: string | null
}

/**
 * Reads a cursor listing: the first page, or every page with `all`. `nextCursor` is where
 * the listing goes on (null when read to the end).
 */
export async function listPages<Item>(
  readPage: (cursor: string | undefined) => Promise<ListingPage<Item>>,
  all: boolean,
): Promise<ListingPage<Item>> {
  const items: Item[] = []
  let cursor: string | null = null
  do {
    const page: ListingPage<Item> = await readPage(cursor ?? undefined)
    items.push(...page.items)
    cursor = page.nextCursor
  } while (cursor && all)
  return { items, nextCursor: cursor }
}
