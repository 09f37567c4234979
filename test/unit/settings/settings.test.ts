// One schema parses every environment variable Meridian reads: each has a default (or is
// optional), takes its valid forms, and refuses a bad value with one line naming the
// variable, the value and the expected form. `npm start` stops on such a value at once.
import { spawnSync } from 'node:child_process'
import { parseSettings, type SettingName, SettingsError, settingNames } from '@meridian/aws'
import { repositoryRoot } from '@meridian/local'
import { describe, expect, it } from 'vitest'

const cases: Record<SettingName, { valid: [string, unknown]; invalid: string; expected: string }> =
  {
    AWS_REGION: { valid: ['eu-west-1', 'eu-west-1'], invalid: 'mars', expected: 'AWS region' },
    MERIDIAN_RATE_LIMIT_PER_SECOND: { valid: ['250', 250], invalid: 'abc', expected: 'integer' },
    MERIDIAN_KV_REPLICAS: { valid: ['3', 3], invalid: '0', expected: 'integer >= 1' },
    MERIDIAN_KV_WRITE_QUORUM: { valid: ['2', 2], invalid: '1.5', expected: 'integer >= 1' },
    MERIDIAN_RING_STALENESS_MS: { valid: ['0', 0], invalid: '-1', expected: 'integer >= 0' },
    MERIDIAN_STORE_TIMEOUT_MS: { valid: ['2000', 2000], invalid: '10', expected: 'integer >= 50' },
    MERIDIAN_STORE_ENDPOINTS: {
      valid: [
        'eu-west-1=http://127.0.0.1:8001, ap-southeast-2=http://127.0.0.1:8002',
        { 'eu-west-1': 'http://127.0.0.1:8001', 'ap-southeast-2': 'http://127.0.0.1:8002' },
      ],
      invalid: 'eu-west-1:8001',
      expected: 'region=url pairs',
    },
    MERIDIAN_RUNNING_JOBS_PER_TENANT_MAX: { valid: ['4', 4], invalid: 'ten', expected: 'integer' },
    MERIDIAN_MIGRATION_CONCURRENCY: {
      valid: ['2', 2],
      invalid: '0',
      expected: 'integer from 1 to 64',
    },
    MERIDIAN_MIGRATION_KEYS_PER_SECOND: { valid: ['60', 60], invalid: '0.5', expected: 'integer' },
    MERIDIAN_SERVED_REGION: {
      valid: ['eu-west-1', 'eu-west-1'],
      invalid: 'europe',
      expected: 'AWS region',
    },
    MERIDIAN_HOME_API_URL: {
      valid: [
        'https://abc.lambda-url.us-east-1.on.aws/',
        'https://abc.lambda-url.us-east-1.on.aws/',
      ],
      invalid: 'ftp://example.com',
      expected: 'http(s) URL',
    },
    PORT: { valid: ['8080', 8080], invalid: '70000', expected: 'from 0 to 65535' },
    MERIDIAN_PERSIST: { valid: ['0', false], invalid: 'yes', expected: '1, 0, true or false' },
    MERIDIAN_DATA_DIR: { valid: ['/var/meridian', '/var/meridian'], invalid: '', expected: '' },
    MERIDIAN_CONCURRENCY: { valid: ['3', 3], invalid: 'abc', expected: 'integer from 1 to 256' },
    MERIDIAN_EDGE: { valid: ['0', false], invalid: 'on', expected: '1, 0, true or false' },
    MERIDIAN_ADMIN_KEY: {
      valid: [`mrd_${'a'.repeat(16)}_${'B'.repeat(43)}`, `mrd_${'a'.repeat(16)}_${'B'.repeat(43)}`],
      invalid: 'mrd_secret-looking',
      expected: 'an API key',
    },
  }

describe('settings', () => {
  it('has defaults for an empty environment', () => {
    expect(parseSettings({})).toEqual({
      MERIDIAN_RATE_LIMIT_PER_SECOND: 100,
      MERIDIAN_KV_REPLICAS: 1,
      MERIDIAN_KV_WRITE_QUORUM: 1,
      MERIDIAN_RING_STALENESS_MS: 5_000,
      MERIDIAN_STORE_TIMEOUT_MS: 1_000,
      MERIDIAN_STORE_ENDPOINTS: {},
      MERIDIAN_RUNNING_JOBS_PER_TENANT_MAX: 10,
      MERIDIAN_MIGRATION_CONCURRENCY: 8,
      PORT: 3000,
      MERIDIAN_PERSIST: true,
      MERIDIAN_DATA_DIR: '.data',
      MERIDIAN_EDGE: true,
    })
  })

  it('covers every variable in the schema', () => {
    expect(Object.keys(cases).sort()).toEqual([...settingNames].sort())
  })

  for (const name of settingNames) {
    const { valid, invalid, expected } = cases[name]
    it(`parses ${name}`, () => {
      expect(parseSettings({ [name]: valid[0] })[name]).toEqual(valid[1])
    })
    // An empty value means "unset" (the default), so MERIDIAN_DATA_DIR has no bad form.
    if (name === 'MERIDIAN_DATA_DIR') continue
    it(`refuses a bad ${name} with a line naming it, its value and the expected form`, () => {
      const error = (() => {
        try {
          parseSettings({ [name]: invalid })
        } catch (caught) {
          return caught
        }
      })()
      expect(error).toBeInstanceOf(SettingsError)
      const message = (error as SettingsError).message
      expect(message).toContain(name)
      expect(message).toContain(expected)
      expect(message).not.toContain('\n')
      if (name === 'MERIDIAN_ADMIN_KEY') expect(message).not.toContain(invalid)
      else expect(message).toContain(JSON.stringify(invalid))
    })
  }

  it('stops npm start with that one line before anything starts', () => {
    const result = spawnSync('npx', ['tsx', 'packages/local/src/main.ts'], {
      cwd: repositoryRoot,
      env: { ...process.env, MERIDIAN_CONCURRENCY: 'abc' },
      encoding: 'utf8',
    })
    expect(result.status).toBe(1)
    expect(result.stderr.trim()).toBe(
      '[meridian] MERIDIAN_CONCURRENCY="abc" is not valid: expected an integer from 1 to 256',
    )
    expect(result.stdout).not.toContain('engines:')
  }, 30_000)
})
