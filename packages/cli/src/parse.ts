// Parsing of option values: durations (`10s`, `500ms`, `2m`; a bare number is seconds),
// positive integers and `KEY=VALUE` / `KEY@VERSION` pairs. A bad value is a usage error.
import { CliError, ExitCode } from './context'

const durationUnitsMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

export function durationMs(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (!match) throw usage(`${what}: ${text} is not a duration such as 10s, 500ms or 2m`)
  return Math.round(Number(match[1]) * durationUnitsMs[match[2] ?? 's']!)
}

export function positiveInteger(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw usage(`${what}: ${text} is not an integer ≥ 1`)
  return Number(text)
}

export function nonNegativeInteger(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw usage(`${what}: ${text} is not an integer ≥ 0`)
  return Number(text)
}

/** `KEY=VALUE` (the first = splits; the value may hold more). */
export function assignment(text: string, what: string): [string, string] {
  const index = text.indexOf('=')
  if (index <= 0) throw usage(`${what}: ${text} is not KEY=VALUE`)
  return [text.slice(0, index), text.slice(index + 1)]
}

/** `KEY@VERSION` (the last @ splits); VERSION is an integer, or `absent`. */
export function versionCheck(text: string, what: string): [string, number | 'absent'] {
  const index = text.lastIndexOf('@')
  const version = text.slice(index + 1)
  if (index <= 0 || !(version === 'absent' || /^\d+$/.test(version)))
    throw usage(`${what}: ${text} is not KEY@VERSION (or KEY@absent)`)
  return [text.slice(0, index), version === 'absent' ? 'absent' : Number(version)]
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

export function usage(message: string): CliError {
  return new CliError(message, ExitCode.usage)
}
