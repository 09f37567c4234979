// GET /jobs and GET /locks on the real composition root and DynamoDB Local: every item of
// the tenant is seen exactly once across pages, in listing order (jobs newest first, locks
// by name); the state and held filters keep exactly the matching items; a tenant never sees
// another's items; and a bad cursor, limit or filter is a problem+json 400.
import { beforeAll, describe, expect, it } from 'vitest'
import { app, bearer, createKey, expectProblem, uniqueTenant } from './support'

const json = { 'content-type': 'application/json' }

interface Page<T> {
  items: T[]
  nextCursor: string | null
}

/** Follows nextCursor to the end; bounded so a cursor that never ends fails the test. */
async function allPages<T>(path: string, headers: Record<string, string>): Promise<T[][]> {
  const pages: T[][] = []
  let cursor: string | null = null
  for (let request = 0; request < 50; request++) {
    const separator = path.includes('?') ? '&' : '?'
    const url = cursor === null ? path : `${path}${separator}cursor=${encodeURIComponent(cursor)}`
    const response = await app.request(url, { headers })
    expect(response.status, url).toBe(200)
    const page = (await response.json()) as Page<T>
    pages.push(page.items)
    if (page.nextCursor === null) return pages
    cursor = page.nextCursor
  }
  throw new Error(`${path} did not end within 50 pages`)
}

interface ListedJob {
  id: string
  job: string
  state: string
  createdAt: string
  tasks: { done: number; total: number }
}

interface ListedLock {
  name: string
  holder?: string
  fence: number
  expiresAt?: string
  held: boolean
}

let alice: Record<string, string>
let bob: Record<string, string>

beforeAll(async () => {
  alice = bearer((await createKey(uniqueTenant('list-alice'), ['jobs', 'lock'])).key)
  bob = bearer((await createKey(uniqueTenant('list-bob'), ['jobs', 'lock'])).key)
})

describe('GET /jobs', () => {
  const submitted: string[] = []
  const cancelled = new Set<string>()

  beforeAll(async () => {
    for (let index = 0; index < 7; index++) {
      const response = await app.request('/jobs', {
        method: 'POST',
        headers: { ...alice, ...json },
        body: JSON.stringify({ job: 'word-count', input: { records: [`job ${index}`] } }),
      })
      expect(response.status).toBe(201)
      submitted.push(((await response.json()) as { id: string }).id)
      // createdAt has millisecond resolution: space the jobs so "newest first" is checkable.
      await new Promise((resolve) => setTimeout(resolve, 3))
    }
    // The first, third, … and the newest (the seventh) are cancelled.
    for (const id of submitted.filter((_, index) => index % 2 === 0)) {
      const response = await app.request(`/jobs/${id}`, { method: 'DELETE', headers: alice })
      expect(response.status).toBe(200)
      cancelled.add(id)
    }
  })

  it('lists every job of the tenant exactly once across pages, newest first', async () => {
    const pages = await allPages<ListedJob>('/jobs?limit=3', alice)
    expect(pages.length).toBeGreaterThanOrEqual(3)
    for (const page of pages) expect(page.length).toBeLessThanOrEqual(3)
    const ids = pages.flat().map((job) => job.id)
    expect(ids).toEqual([...submitted].reverse())
    const first = pages[0]![0]!
    expect(first).toMatchObject({ id: submitted.at(-1), job: 'word-count', state: 'CANCELLED' })
    // Each item is the job as GET /jobs/{id} reports it.
    const single = await app.request(`/jobs/${first.id}`, { headers: alice })
    expect(Object.keys((await single.json()) as object).sort()).toEqual(Object.keys(first).sort())
  })

  it('keeps exactly the jobs in the asked state', async () => {
    const cancelledIds = (await allPages<ListedJob>('/jobs?state=CANCELLED&limit=2', alice)).flat()
    expect(cancelledIds.every((job) => job.state === 'CANCELLED')).toBe(true)
    expect(new Set(cancelledIds.map((job) => job.id))).toEqual(cancelled)
    expect(cancelledIds).toHaveLength(cancelled.size)

    const running = (await allPages<ListedJob>('/jobs?state=RUNNING', alice)).flat()
    expect(running.map((job) => job.id)).toEqual(
      [...submitted].reverse().filter((id) => !cancelled.has(id)),
    )
    const succeeded = (await allPages<ListedJob>('/jobs?state=SUCCEEDED', alice)).flat()
    expect(succeeded).toEqual([])
  })

  it('defaults to pages of 20', async () => {
    const response = await app.request('/jobs', { headers: alice })
    const page = (await response.json()) as Page<ListedJob>
    expect(page.items).toHaveLength(submitted.length)
    expect(page.nextCursor).toBeNull()
  })

  it("never shows one tenant's jobs to another, nor accepts its cursor", async () => {
    expect(await allPages<ListedJob>('/jobs', bob)).toEqual([[]])
    const first = await app.request('/jobs?limit=1', { headers: alice })
    const { nextCursor } = (await first.json()) as Page<ListedJob>
    expect(nextCursor).not.toBeNull()
    const foreign = await app.request(`/jobs?cursor=${encodeURIComponent(nextCursor!)}`, {
      headers: bob,
    })
    expect(foreign.status).toBe(400)
    expect((await expectProblem(foreign)).type).toBe('urn:meridian:problem:invalid-cursor')
  })

  it('answers a bad cursor, limit or state with a problem+json 400', async () => {
    const forged = Buffer.from(JSON.stringify(['lock#x#y', '1'])).toString('base64url')
    for (const [query, slug] of [
      ['cursor=not-a-cursor', 'invalid-cursor'],
      [`cursor=${forged}`, 'invalid-cursor'],
      ['limit=0', 'invalid-request'],
      ['limit=101', 'invalid-request'],
      ['limit=ten', 'invalid-request'],
      ['limit=2.5', 'invalid-request'],
      ['state=DONE', 'invalid-request'],
    ] as const) {
      const response = await app.request(`/jobs?${query}`, { headers: alice })
      expect(response.status, query).toBe(400)
      expect((await expectProblem(response)).type, query).toBe(`urn:meridian:problem:${slug}`)
    }
  })
})

describe('GET /locks', () => {
  const names = ['list-a', 'list-b', 'list-c', 'list-d', 'list-e']
  const released = new Set(['list-b', 'list-d'])

  beforeAll(async () => {
    for (const name of names) {
      const acquired = await app.request(`/locks/${name}/acquire`, {
        method: 'POST',
        headers: { ...alice, ...json },
        body: JSON.stringify({ owner: `owner-${name}`, leaseMs: 60_000 }),
      })
      expect(acquired.status).toBe(200)
      const { fence } = (await acquired.json()) as { fence: number }
      if (!released.has(name)) continue
      const release = await app.request(`/locks/${name}/release`, {
        method: 'POST',
        headers: { ...alice, ...json },
        body: JSON.stringify({ owner: `owner-${name}`, fence }),
      })
      expect(release.status).toBe(200)
    }
  })

  it('lists every lock of the tenant exactly once across pages, by name', async () => {
    const pages = await allPages<ListedLock>('/locks?limit=2', alice)
    expect(pages.length).toBeGreaterThanOrEqual(3)
    const locks = pages.flat()
    expect(locks.map((lock) => lock.name)).toEqual(names)
    const held = locks.find((lock) => lock.name === 'list-a')!
    expect(held).toMatchObject({ holder: 'owner-list-a', held: true })
    expect(Date.parse(held.expiresAt!)).toBeGreaterThan(Date.now())
    const free = locks.find((lock) => lock.name === 'list-b')!
    expect(free).toEqual({ name: 'list-b', fence: free.fence, held: false })
    expect(free.fence).toBeGreaterThanOrEqual(1)
  })

  it('keeps exactly the held, or exactly the free, locks', async () => {
    const held = (await allPages<ListedLock>('/locks?held=true&limit=1', alice)).flat()
    expect(held.map((lock) => lock.name)).toEqual(names.filter((name) => !released.has(name)))
    expect(held.every((lock) => lock.held && lock.holder === `owner-${lock.name}`)).toBe(true)
    const free = (await allPages<ListedLock>('/locks?held=false', alice)).flat()
    expect(free.map((lock) => lock.name)).toEqual([...released])
    expect(free.every((lock) => !lock.held && lock.holder === undefined)).toBe(true)
  })

  it("never shows one tenant's locks to another", async () => {
    expect(await allPages<ListedLock>('/locks', bob)).toEqual([[]])
    const response = await app.request('/locks?held=true', { headers: bob })
    expect(((await response.json()) as Page<ListedLock>).items).toEqual([])
  })

  it('answers a bad cursor, limit or filter with a problem+json 400', async () => {
    for (const [query, slug] of [
      ['cursor=%%%', 'invalid-cursor'],
      [`cursor=${Buffer.from('["../x"]').toString('base64url')}`, 'invalid-cursor'],
      ['limit=-1', 'invalid-request'],
      ['limit=1000', 'invalid-request'],
      ['held=yes', 'invalid-request'],
    ] as const) {
      const response = await app.request(`/locks?${query}`, { headers: alice })
      expect(response.status, query).toBe(400)
      expect((await expectProblem(response)).type, query).toBe(`urn:meridian:problem:${slug}`)
    }
  })
})
