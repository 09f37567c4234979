import { describe, expect, it } from 'vitest'
import { ExitCode, exitCodeOfStatus, problemLine } from './context'
import { assignment, durationMs, positiveInteger, versionCheck } from './parse'

describe('option values', () => {
  it('reads durations with a unit, and a bare number as seconds', () => {
    expect(durationMs('10s', '--lease')).toBe(10_000)
    expect(durationMs('250ms', '--lease')).toBe(250)
    expect(durationMs('1.5m', '--lease')).toBe(90_000)
    expect(durationMs('3', '--lease')).toBe(3_000)
    expect(() => durationMs('soon', '--lease')).toThrow(/--lease: soon is not a duration/)
  })

  it('splits KEY=VALUE at the first = and KEY@VERSION at the last @', () => {
    expect(assignment('a=b=c', '--put')).toEqual(['a', 'b=c'])
    expect(versionCheck('user@example.com@3', '--check')).toEqual(['user@example.com', 3])
    expect(versionCheck('k@absent', '--check')).toEqual(['k', 'absent'])
    expect(() => assignment('=v', '--put')).toThrow()
    expect(() => versionCheck('k@three', '--check')).toThrow()
  })

  it('makes a bad value a usage error (exit 2)', () => {
    try {
      positiveInteger('0', '--limit')
      expect.unreachable()
    } catch (error) {
      expect((error as { exitCode: number }).exitCode).toBe(ExitCode.usage)
    }
  })
})

describe('API problems', () => {
  it('map to exit codes by status', () => {
    expect(exitCodeOfStatus(404)).toBe(ExitCode.notFound)
    for (const status of [409, 412, 428]) expect(exitCodeOfStatus(status)).toBe(ExitCode.conflict)
    for (const status of [400, 401, 403, 429, 500, 503])
      expect(exitCodeOfStatus(status)).toBe(ExitCode.error)
  })

  it('print as one line: status, slug, title, detail and extensions', () => {
    const line = problemLine({
      type: 'urn:meridian:problem:lock-held',
      title: 'Lock is held',
      status: 409,
      detail: 'held by w',
      instance: '/locks/a/acquire',
      owner: 'w',
      fence: 3,
    })
    expect(line).toBe('409 lock-held: Lock is held — held by w (owner=w fence=3)')
    expect(line).not.toContain('\n')
  })
})
