// The dashboard and the API docs in a real headless browser (Debian's chromium driven by
// playwright-core) against `npm start`: the ring drawn with every store region, a word-count
// job submitted through the form followed live to SUCCEEDED (over its event stream), a real
// ring change followed to its new version, a held lock from GET /locks, the panels on an API
// without the listings (404), a migration's progress, and /docs rendering with no request
// leaving the API's origin. A screenshot of each page goes to test-artifacts/ (git-ignored)
// for a person to look at.
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateApiKey } from '@meridian/api/api-keys'
import { repositoryRoot } from '@meridian/local'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../packages/local/src/free-port'
import { killGroup, startNpm } from '../support/npm-start'

const chromiumPath = '/usr/bin/chromium'
const artifacts = join(repositoryRoot, 'test-artifacts')
const dataDirectory = mkdtempSync(join(tmpdir(), 'meridian-dashboard-'))
const userDataDirectory = mkdtempSync(join(tmpdir(), 'meridian-chromium-'))
const adminKey = generateApiKey().key
const started: ChildProcess[] = []
let base = ''
let browser: BrowserContext

/** Each wait for the page is bounded; the job's is the longest (map, then reduce). */
const pageWaitMs = 20_000
const jobWaitMs = 45_000

beforeAll(async () => {
  if (!existsSync(chromiumPath))
    throw new Error(`${chromiumPath} is missing: apt-get install chromium`)
  mkdirSync(artifacts, { recursive: true })
  const port = await freePort()
  base = `http://localhost:${port}`
  const [, context] = await Promise.all([
    startNpm({ port, dataDirectory, adminKey, started }),
    // Without the background-networking flags Chromium dials out (component updates, sync),
    // and this closed network refuses it; a fresh profile keeps runs independent.
    chromium.launchPersistentContext(userDataDirectory, {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 1280, height: 1000 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    }),
  ])
  browser = context
}, 60_000)

afterAll(async () => {
  await browser?.close()
  for (const child of started) killGroup(child, 'SIGKILL')
  rmSync(dataDirectory, { recursive: true, force: true })
  rmSync(userDataDirectory, { recursive: true, force: true })
})

function call(path: string, init: RequestInit = {}) {
  return fetch(`${base}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${adminKey}`, ...init.headers },
  })
}

/**
 * What went wrong in the page: script errors, console errors and every answer of 400 or
 * more (as `status path`). The console's "Failed to load resource" lines repeat the latter.
 */
function watchErrors(page: Page): { errors: string[]; failedRequests: string[] } {
  const errors: string[] = []
  const failedRequests: string[] = []
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
      errors.push(`console: ${message.text()}`)
  })
  page.on('response', (response) => {
    const url = new URL(response.url())
    if (response.status() >= 400)
      failedRequests.push(`${response.status()} ${url.pathname}${url.search}`)
  })
  return { errors, failedRequests }
}

describe('the dashboard in a browser', () => {
  it('draws the ring with every region, follows a job from its form to SUCCEEDED and a ring change to its new version', async () => {
    // A tiny input for word count, uploaded as a user would before submitting.
    const upload = await call('/jobs/inputs/dashboard-e2e/words.txt', {
      method: 'PUT',
      body: 'the quick brown fox\njumps over the lazy dog\nthe end\n',
    })
    expect(upload.status).toBe(201)
    const regionNames = (
      (await (await call('/regions')).json()) as { regions: Array<{ region: string }> }
    ).regions
      .map((region) => region.region)
      .sort()
    expect(regionNames.length).toBe(3)

    const acquired = await call('/locks/dashboard-e2e-lock/acquire', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ owner: 'e2e-holder', leaseMs: 60_000 }),
    })
    expect(acquired.status).toBe(200)
    const lock = (await acquired.json()) as { fence: number }

    const page = await browser.newPage()
    const { errors, failedRequests } = watchErrors(page)
    await page.goto(`${base}/dashboard`)
    await page.fill('#api-key', adminKey)
    await page.click('#key-form button[type=submit]')

    // The ring: one SVG group per region, each with arcs, and a row per node.
    await page.waitForFunction(
      (count) => document.querySelectorAll('#ring-svg g[data-region] path').length >= count,
      3,
      { timeout: pageWaitMs },
    )
    const drawnRegions = await page.$$eval('#ring-svg g[data-region]', (groups) =>
      groups.map((group) => group.getAttribute('data-region')).sort(),
    )
    expect(drawnRegions).toEqual(regionNames)
    for (const region of regionNames) {
      expect(
        await page.locator(`#ring-svg g[data-region="${region}"] path`).count(),
      ).toBeGreaterThan(0)
    }
    const ring = (await (await call('/ring')).json()) as { config: { nodes: unknown[] } }
    await expect
      .poll(() => page.locator('#ring-nodes tbody tr').count(), { timeout: pageWaitMs })
      .toBe(ring.config.nodes.length)

    // Regions and transactions come from endpoints this API serves.
    await page.waitForSelector('#regions-panel tr[data-region]', { timeout: pageWaitMs })
    expect(await page.locator('#regions-panel tr[data-region]').count()).toBe(3)
    await page.waitForSelector('#txn-panel .body > *', { timeout: pageWaitMs })
    expect(await page.locator('#txn-panel .error').count()).toBe(0)

    // Locks, from GET /locks?held=true: the one held above, with its holder, fence and the
    // lease left counting down from its expiry, a minute after it was taken.
    await page.waitForSelector('#locks-panel tr[data-lock="dashboard-e2e-lock"]', {
      timeout: pageWaitMs,
    })
    const [holder, fence, leaseLeft] = (
      await page.$$eval('#locks-panel tr[data-lock="dashboard-e2e-lock"] td', (tds) =>
        tds.map((td) => td.textContent ?? ''),
      )
    ).slice(1)
    expect([holder, fence]).toEqual(['e2e-holder', String(lock.fence)])
    const leaseLeftSeconds = Number(/^([0-9]+\.[0-9]) s$/.exec(leaseLeft ?? '')?.[1])
    expect(leaseLeftSeconds).toBeGreaterThan(0)
    expect(leaseLeftSeconds).toBeLessThanOrEqual(60)

    // A job through the form, followed over the event stream until it succeeds.
    await page.fill('#job-form input[name=job]', 'word-count')
    await page.fill('#job-form input[name=prefix]', 'dashboard-e2e/')
    await page.fill('#job-form input[name=partitions]', '2')
    await page.click('#job-form button[type=submit]')
    const status = page.locator('#job-form-status')
    await expect.poll(() => status.textContent(), { timeout: pageWaitMs }).toMatch(/^submitted /)
    const jobId = ((await status.textContent()) ?? '').replace(/^submitted /, '')
    await page.waitForSelector(`#jobs-panel tr[data-job-id="${jobId}"][data-state="SUCCEEDED"]`, {
      timeout: jobWaitMs,
    })
    const job = (await (await call(`/jobs/${jobId}`)).json()) as {
      state: string
      tasks: { done: number; total: number }
    }
    expect(job.state).toBe('SUCCEEDED')
    const row = page.locator(`#jobs-panel tr[data-job-id="${jobId}"]`)
    expect(await row.textContent()).toContain(`${job.tasks.total}/${job.tasks.total}`)
    // The listing (GET /jobs) shows it too: no "not available" note.
    expect(await page.locator('#jobs-listing-note').count()).toBe(0)

    await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true })
    // Nothing rendered a missing value as text.
    expect(await page.locator('#panels').textContent()).not.toMatch(/\b(null|undefined|NaN)\b/)

    // A real ring change: ap-southeast-2 at weight 2. The page follows it to the new version
    // and redraws the ring from that version's arcs.
    const before = (await (await call('/ring')).json()) as {
      version: number
      config: { nodes: Array<{ id: string; region: string; weight: number }> }
    }
    const reweighted = before.config.nodes.map((node) =>
      node.region === 'ap-southeast-2' ? { ...node, weight: 2 } : node,
    )
    const change = await call('/ring', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'if-match': `"${before.version}"` },
      body: JSON.stringify({ nodes: reweighted }),
    })
    expect(change.status).toBe(202)
    // A change takes the ring through several versions (gating, moving, stable).
    await page.waitForFunction(
      (version) => {
        const shown = /^version ([0-9]+), stable$/.exec(
          document.getElementById('ring-version')?.textContent ?? '',
        )
        return shown !== null && Number(shown[1]) > version
      },
      before.version,
      { timeout: jobWaitMs },
    )
    const heavyNode = reweighted.find((node) => node.weight === 2)!
    const [, , weight, share] = await page.$$eval(
      `#ring-nodes tr[data-node="${heavyNode.id}"] td`,
      (tds) => tds.map((td) => td.textContent ?? ''),
    )
    expect(weight).toBe('2')
    expect(Number.parseFloat(share ?? '')).toBeGreaterThan(40)
    expect(await page.locator('#migration').isVisible()).toBe(false)
    expect(errors).toEqual([])
    expect(failedRequests).toEqual([])
    await page.close()
  }, 90_000)

  it('says "not available" for locks and jobs on an API without their listings, and still follows its own jobs', async () => {
    // An API deployed before GET /locks and GET /jobs answers them with a problem+json 404;
    // the browser plays that API for those two routes.
    const page = await browser.newPage()
    const { errors, failedRequests } = watchErrors(page)
    const notFound = (path: string) => ({
      status: 404,
      contentType: 'application/problem+json',
      body: JSON.stringify({
        type: 'urn:meridian:problem:not-found',
        title: 'Not Found',
        status: 404,
        detail: `No route for GET ${path}`,
      }),
    })
    await page.route(/\/locks\?/, (route) => route.fulfill(notFound('/locks')))
    await page.route(/\/jobs\?/, (route) => route.fulfill(notFound('/jobs')))
    await page.goto(`${base}/dashboard`)
    // A new tab has a sessionStorage of its own: the key is entered again.
    await page.fill('#api-key', adminKey)
    await page.click('#key-form button[type=submit]')
    await page.waitForSelector('#locks-panel .unavailable', { timeout: pageWaitMs })
    expect(await page.locator('#locks-panel .body').textContent()).toContain('not available')
    await page.waitForSelector('#jobs-listing-note', { timeout: pageWaitMs })
    // The other panels don't depend on those listings.
    await page.waitForSelector('#regions-panel tr[data-region]', { timeout: pageWaitMs })
    await page.waitForSelector('#ring-svg g[data-region] path', { timeout: pageWaitMs })

    // A job submitted here is still followed to its end over its event stream.
    await page.fill('#job-form input[name=prefix]', '')
    await page.fill('#job-form textarea[name=records]', 'one two two\nthree three three')
    await page.click('#job-form button[type=submit]')
    const status = page.locator('#job-form-status')
    await expect.poll(() => status.textContent(), { timeout: pageWaitMs }).toMatch(/^submitted /)
    const jobId = ((await status.textContent()) ?? '').replace(/^submitted /, '')
    await page.waitForSelector(`#jobs-panel tr[data-job-id="${jobId}"][data-state="SUCCEEDED"]`, {
      timeout: jobWaitMs,
    })
    expect(errors).toEqual([])
    // The only failed calls are the two listings.
    expect(new Set(failedRequests)).toEqual(
      new Set(['404 /locks?held=true&limit=50', '404 /jobs?limit=20']),
    )
    await page.close()
  }, 60_000)

  it("shows a running migration's progress from GET /ring and its event stream", async () => {
    // A migration under npm start can end between two looks of the page, so the browser
    // answers GET /ring (the real status with a migration in it) and the event stream.
    const ring = (await (await call('/ring')).json()) as Record<string, unknown>
    const migrating = (done: number, moved: number, scanned: number) => ({
      ...ring,
      state: 'migrating',
      migration: {
        phase: 'moving',
        fromVersion: (ring.version as number) - 1,
        startedAt: new Date().toISOString(),
        ranges: { done, total: 8 },
        keys: { moved, scanned },
      },
    })
    const event = (name: string, data: unknown, id?: string) =>
      `event: ${name}\n${id ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`
    const page = await browser.newPage()
    const { errors } = watchErrors(page)
    await page.route(/\/ring$/, (route) => route.fulfill({ json: migrating(2, 10, 40) }))
    const streamHeaders: Array<Record<string, string>> = []
    await page.route(/\/ring\/migration\/events/, (route) => {
      streamHeaders.push(route.request().headers())
      return route.fulfill({
        contentType: 'text/event-stream',
        body:
          event('progress', migrating(3, 15, 60), '00000000000000a1') +
          event('progress', migrating(5, 25, 90), '00000000000000a2') +
          event('end', { state: 'migrating', version: ring.version }),
      })
    })
    await page.goto(`${base}/dashboard`)
    await page.fill('#api-key', adminKey)
    await page.click('#key-form button[type=submit]')
    await page.waitForFunction(
      () => document.getElementById('migration-text')?.textContent?.includes('ranges 5/8'),
      undefined,
      { timeout: pageWaitMs },
    )
    expect(await page.locator('#migration').isVisible()).toBe(true)
    expect(await page.locator('#migration-text').textContent()).toContain(
      'phase moving: ranges 5/8, keys moved 25 of 90 scanned',
    )
    expect(
      await page
        .locator('#migration-progress')
        .evaluate((bar: HTMLProgressElement) => [bar.value, bar.max]),
    ).toEqual([5, 8])
    // The stream was read with the key, which an EventSource could not have sent.
    expect(streamHeaders[0]?.authorization).toBe(`Bearer ${adminKey}`)
    expect(errors).toEqual([])
    await page.close()
  }, 60_000)

  it('shows the API docs with every asset from the API origin', async () => {
    const page = await browser.newPage()
    const { errors, failedRequests } = watchErrors(page)
    const requested: string[] = []
    page.on('request', (request) => requested.push(request.url()))
    await page.goto(`${base}/docs`)
    await page.waitForSelector('.swagger-ui .info .title', { timeout: pageWaitMs })
    expect(await page.locator('.swagger-ui .info .title').textContent()).toContain('Meridian')
    // Operations are listed: the document loaded and rendered, not just the shell.
    await page.waitForSelector('.opblock', { timeout: pageWaitMs })
    expect(requested).toEqual(
      expect.arrayContaining([
        `${base}/docs`,
        `${base}/docs/swagger-ui-dist/swagger-ui-bundle.js`,
        `${base}/docs/swagger-ui-dist/swagger-ui.css`,
        `${base}/openapi.json`,
      ]),
    )
    const offOrigin = requested.filter(
      (url) => !url.startsWith('data:') && new URL(url).origin !== new URL(base).origin,
    )
    expect(offOrigin).toEqual([])
    await page.screenshot({ path: join(artifacts, 'docs.png') })
    expect(errors).toEqual([])
    expect(failedRequests).toEqual([])
    await page.close()
  }, 60_000)
})
