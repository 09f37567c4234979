// 1,000+ malformed requests across every route that takes input (fast-check): each must be
// answered with a 4xx problem+json, never a 5xx and never a success, and the tenant's stored
// data must be exactly as before. Each generator names the problem types its requests may
// get, so an answer from routing or auth (401/404/405) instead of validation fails. Routes without any input (GET /ring) can't be malformed.
import { ScanCommand } from '@aws-sdk/client-dynamodb'
import { scopes } from '@meridian/api'
import { dynamoClient, stageConfig, storeTableResource } from '@meridian/aws'
import fc from 'fast-check'
import { Resource } from 'sst'
import { beforeAll, describe, expect, it } from 'vitest'
import { app, bearer, createKey, expectProblem, uniqueTenant } from './support'

interface FuzzRequest {
  method: string
  path: string
  headers?: Record<string, string>
  body?: string
}

/** A malformed request, named by the generator that made it and the problems it may get. */
interface LabelledRequest extends FuzzRequest {
  label: string
  expectedTypes: readonly string[]
}

const problem = (slug: string) => `urn:meridian:problem:${slug}`

function generator(
  label: string,
  expectedTypes: readonly string[],
  arbitrary: fc.Arbitrary<FuzzRequest>,
): fc.Arbitrary<LabelledRequest> {
  return arbitrary.map((request) => ({ ...request, label, expectedTypes }))
}

const json = { 'content-type': 'application/json' }
const validationStatuses = new Set([400, 413, 422])
const generatorLabels = [
  'admin-keys-body',
  'admin-keys-id',
  'admin-keys-tenant',
  'jobs-body',
  'jobs-events-query',
  'jobs-id',
  'jobs-incoming-name',
  'jobs-input-path',
  'jobs-output-id',
  'kv-fence',
  'kv-if-match',
  'kv-key',
  'lock-body',
  'lock-get-name',
  'lock-name',
  'ring-body',
  'ring-owners-key',
  'txn-body',
  'txn-id',
  'txn-query',
]
const notJson = fc.constantFrom('{', '[1,2', '{"a":', 'nul', "{'single':1}", '{"x":1}}', '\u0000')
const wrongJson = fc
  .oneof(
    fc.integer(),
    fc.constant(null),
    fc.array(fc.integer(), { maxLength: 3 }),
    fc.string({ maxLength: 8 }),
    fc.boolean(),
  )
  .map((value) => JSON.stringify(value))
const junkObject = fc
  .dictionary(
    fc.string({ minLength: 1, maxLength: 6 }).map((key) => `zz${key}`),
    fc.jsonValue({ maxDepth: 2 }),
    {
      maxKeys: 3,
    },
  )
  .map((value) => JSON.stringify(value))
const badJsonBody = fc.oneof(notJson, wrongJson, junkObject)

/** Path segments no route accepts as a name or id. */
const badName = fc.oneof(
  fc.constantFrom('has space', 'semi;colon', 'ünïcode', 'a!b', 'x*y', '<tag>'),
  fc.string({ minLength: 200, maxLength: 260 }).map((text) => `n${text.replace(/[^a-z]/gi, 'q')}`),
)
const encoded = (segment: string) => encodeURIComponent(segment)
/** KV keys over 1 KiB, or escapes that aren't valid UTF-8. */
const badKey = fc.oneof(
  fc.constantFrom('%ZZ', 'a%', '%E0%A4', '%ED%A0%80', '%FF%FE', 'x%G1'),
  fc.integer({ min: 1025, max: 1400 }).map((length) => 'k'.repeat(length)),
)
const badEtag = fc.constantFrom('abc', 'W/"1"', '"x"', '"-1"', '1', '""', '"1.5"')
const badFence = fc.constantFrom('abc', '-1', '1.5', '0x10', '', '99999999999999999999')

function requests(): fc.Arbitrary<LabelledRequest> {
  const kvPath = badKey.map((key) => `/kv/${key}`)
  return fc.oneof(
    generator(
      'admin-keys-body',
      [problem('bad-request'), problem('invalid-request')],
      badJsonBody.map((body) => ({ method: 'POST', path: '/admin/keys', headers: json, body })),
    ),
    generator(
      'admin-keys-tenant',
      [problem('invalid-request')],
      fc
        .constantFrom('BAD', 'a_b', '', '-lead')
        .map((tenant) => ({ method: 'GET', path: `/admin/keys?tenant=${tenant}` })),
    ),
    generator(
      'admin-keys-id',
      [problem('invalid-request')],
      badName.map((id) => ({ method: 'DELETE', path: `/admin/keys/${encoded(id)}` })),
    ),
    generator(
      'kv-key',
      [problem('invalid-key')],
      fc
        .tuple(fc.constantFrom('GET', 'PUT', 'DELETE'), kvPath)
        .map(([method, path]) => ({ method, path, body: method === 'PUT' ? 'v' : undefined })),
    ),
    generator(
      'kv-if-match',
      [problem('invalid-if-match')],
      fc.tuple(fc.constantFrom('PUT', 'DELETE'), badEtag).map(([method, etag]) => ({
        method,
        path: '/kv/fuzz-key',
        headers: { 'if-match': etag },
        body: method === 'PUT' ? 'changed' : undefined,
      })),
    ),
    generator(
      'kv-fence',
      [problem('invalid-fence')],
      fc.tuple(fc.constantFrom('PUT', 'DELETE'), badFence).map(([method, fence]) => ({
        method,
        path: '/kv/fuzz-key',
        headers: { 'meridian-fence': fence },
        body: method === 'PUT' ? 'changed' : undefined,
      })),
    ),
    generator(
      'ring-owners-key',
      [problem('invalid-key')],
      badKey.map((key) => ({ method: 'GET', path: `/ring/owners/${key}` })),
    ),
    generator(
      'ring-body',
      [problem('invalid-json'), problem('invalid-ring-config')],
      badJsonBody.map((body) => ({
        method: 'PUT',
        path: '/ring',
        headers: { ...json, 'if-match': '"1"' },
        body,
      })),
    ),
    generator(
      'lock-name',
      [problem('invalid-lock-name')],
      fc.tuple(fc.constantFrom('acquire', 'renew', 'release'), badName).map(([action, name]) => ({
        method: 'POST',
        path: `/locks/${encoded(name)}/${action}`,
        headers: json,
        body: JSON.stringify({ owner: 'o', fence: 1, leaseMs: 10_000 }),
      })),
    ),
    generator(
      'lock-body',
      [problem('invalid-json'), problem('invalid-lock-request')],
      fc
        .tuple(fc.constantFrom('acquire', 'renew', 'release'), badJsonBody)
        .map(([action, body]) => ({
          method: 'POST',
          path: `/locks/fuzz-lock/${action}`,
          headers: json,
          body,
        })),
    ),
    generator(
      'lock-get-name',
      [problem('invalid-lock-name')],
      badName.map((name) => ({ method: 'GET', path: `/locks/${encoded(name)}` })),
    ),
    generator(
      'txn-body',
      [
        problem('invalid-json'),
        problem('invalid-transaction'),
        problem('no-operations'),
        problem('duplicate-key'),
        problem('unknown-operation'),
        problem('too-many-operations'),
      ],
      fc
        .oneof(
          badJsonBody,
          fc.constant(JSON.stringify({ operations: [] })),
          fc.constant(
            JSON.stringify({
              operations: [
                { op: 'put', key: 'a', value: '1' },
                { op: 'delete', key: 'a' },
              ],
            }),
          ),
          fc.constant(JSON.stringify({ operations: [{ op: 'upsert', key: 'a', value: '1' }] })),
          fc.constant(
            JSON.stringify({
              operations: Array.from({ length: 101 }, (_, index) => ({
                op: 'check',
                key: `k${index}`,
                ifVersion: 1,
              })),
            }),
          ),
        )
        .map((body) => ({ method: 'POST', path: '/txn', headers: json, body })),
    ),
    generator(
      'txn-query',
      [problem('invalid-query'), problem('invalid-limit')],
      fc
        .constantFrom('state=bogus', 'state=in-doubt&limit=-1', 'state=in-doubt&limit=abc')
        .map((query) => ({ method: 'GET', path: `/txn?${query}` })),
    ),
    generator(
      'txn-id',
      [problem('invalid-transaction-id')],
      badName.map((id) => ({ method: 'GET', path: `/txn/${encoded(id)}` })),
    ),
    generator(
      'jobs-body',
      [problem('invalid-json'), problem('invalid-job-spec')],
      fc
        .oneof(
          badJsonBody,
          fc.constant(JSON.stringify({ job: 'no-such-job', input: { records: ['a'] } })),
        )
        .map((body) => ({ method: 'POST', path: '/jobs', headers: json, body })),
    ),
    generator(
      'jobs-id',
      [problem('invalid-request')],
      fc
        .tuple(fc.constantFrom('GET', 'DELETE'), badName)
        .map(([method, id]) => ({ method, path: `/jobs/${encoded(id)}` })),
    ),
    generator(
      'jobs-output-id',
      [problem('invalid-request')],
      fc
        .tuple(fc.constantFrom('output', 'events'), badName)
        .map(([kind, id]) => ({ method: 'GET', path: `/jobs/${encoded(id)}/${kind}` })),
    ),
    generator(
      'jobs-events-query',
      [problem('invalid-request')],
      fc
        .constantFrom('timeoutSeconds=0', 'intervalMs=5', 'timeoutSeconds=abc')
        .map((query) => ({ method: 'GET', path: `/jobs/some-job/events?${query}` })),
    ),
    generator(
      'jobs-input-path',
      [problem('invalid-request')],
      fc.integer({ min: 901, max: 1200 }).map((length) => ({
        method: 'PUT',
        path: `/jobs/inputs/${'p'.repeat(length)}`,
        body: 'x',
      })),
    ),
    generator(
      'jobs-incoming-name',
      [problem('invalid-request'), problem('invalid-job-spec')],
      badName.map((job) => ({
        method: 'PUT',
        path: `/jobs/incoming/${encoded(job)}/file.txt`,
        body: 'x',
      })),
    ),
  )
}

async function tenantItemCount(tenant: string): Promise<number> {
  const linked = Resource as unknown as Record<string, { name: string }>
  const tables: Array<[string, string]> = [
    [stageConfig.homeRegion, linked.Coordination!.name],
    ...stageConfig.storeRegions.map((region): [string, string] => [
      region,
      linked[storeTableResource(region)]!.name,
    ]),
  ]
  let count = 0
  for (const [region, table] of tables) {
    let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined
    do {
      const page = await dynamoClient(region).send(
        new ScanCommand({
          TableName: table,
          FilterExpression: 'contains(pk, :tenant)',
          ExpressionAttributeValues: { ':tenant': { S: tenant } },
          ExclusiveStartKey: start,
        }),
      )
      count += page.Count ?? 0
      start = page.LastEvaluatedKey
    } while (start)
  }
  return count
}

describe('malformed requests', () => {
  let tenant: string
  let auth: Record<string, string>

  beforeAll(async () => {
    tenant = uniqueTenant('fuzz')
    // Every scope, admin included, so no answer is a mere 403 hiding a 5xx behind it.
    auth = bearer((await createKey(tenant, [...scopes])).key)
    const put = await app.request('/kv/fuzz-key', {
      method: 'PUT',
      headers: auth,
      body: 'original',
    })
    expect(put.status).toBe(201)
    const lock = await app.request('/locks/fuzz-lock/acquire', {
      method: 'POST',
      headers: { ...auth, ...json },
      body: JSON.stringify({ owner: 'fuzzer', leaseMs: 600_000 }),
    })
    expect(lock.status).toBe(200)
  })

  it('answers 1,000 of them with a 4xx problem+json and changes nothing', async () => {
    const before = await tenantItemCount(tenant)
    const kvBefore = await app.request('/kv/fuzz-key', { headers: auth })
    const etagBefore = kvBefore.headers.get('etag')
    const lockBefore = await (await app.request('/locks/fuzz-lock', { headers: auth })).json()
    const statuses = new Map<number, number>()
    const answered = new Set<string>()
    let validationAnswers = 0

    await fc.assert(
      fc.asyncProperty(requests(), async (request) => {
        const response = await app.request(request.path, {
          method: request.method,
          headers: { ...auth, ...request.headers },
          ...(request.body !== undefined && { body: request.body }),
        })
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
        expect(
          response.status,
          `${request.method} ${request.path.slice(0, 80)}`,
        ).toBeGreaterThanOrEqual(400)
        expect(response.status, `${request.method} ${request.path.slice(0, 80)}`).toBeLessThan(500)
        const { type } = await expectProblem(response)
        // The answer comes from the check this generator aims at, not from routing or auth.
        expect(
          request.expectedTypes,
          `${request.label}: ${request.method} ${request.path.slice(0, 80)}`,
        ).toContain(type)
        answered.add(request.label)
        if (validationStatuses.has(response.status)) validationAnswers++
      }),
      { numRuns: 1_000, seed: 20261127 },
    )

    const kvAfter = await app.request('/kv/fuzz-key', { headers: auth })
    expect(await kvAfter.text()).toBe('original')
    expect(kvAfter.headers.get('etag')).toBe(etagBefore)
    expect(await (await app.request('/locks/fuzz-lock', { headers: auth })).json()).toEqual(
      lockBefore,
    )
    expect(await tenantItemCount(tenant)).toBe(before)
    const answers = [...statuses.values()].reduce((sum, count) => sum + count, 0)
    expect(answers).toBeGreaterThanOrEqual(1_000)
    // Validation ran: nearly every answer is a validation answer (all of them today), not a
    // 401/404/405 from auth or routing, and every generator was exercised.
    expect(validationAnswers / answers).toBeGreaterThanOrEqual(0.95)
    expect([...answered].sort()).toEqual(generatorLabels)
  }, 180_000)
})
