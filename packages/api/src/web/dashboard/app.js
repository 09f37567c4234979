// The Meridian dashboard: one ES module, no framework. It reads the API with the key the user
// pasted (kept in sessionStorage for this tab only, sent as a bearer token) and redraws each
// panel from its endpoint. Live progress (jobs, a ring migration) comes over the API's
// server-sent events, read with fetch() because EventSource can't send an Authorization
// header. A listing the API doesn't serve (404) shows as "not available" in its panel.

const keyStorageName = 'meridian.apiKey'
const refreshIntervalMs = 5_000
const streamAttemptsMax = 50
// A browser keeps at most 6 HTTP/1.1 connections per origin: streams leave room for calls.
// Jobs past this many are updated by the listing (and get a stream when one ends).
const jobStreamsMax = 3
// A listing page may hold fewer items than asked (even none) while more follow: read up to
// this many pages per refresh.
const listingPagesMax = 5
const arcSegments = 360
const svgNamespace = 'http://www.w3.org/2000/svg'
const palette = ['#1a5fb4', '#e66100', '#26a269', '#9141ac', '#c01c28', '#986a44', '#0e7c86']
const terminalJobStates = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED'])

const state = {
  ring: undefined,
  arcs: undefined,
  jobs: new Map(),
  jobStreams: new Set(),
  migrationStream: false,
  locks: undefined,
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`)
    this.status = status
    this.problem = problem
  }
}

function apiKey() {
  return sessionStorage.getItem(keyStorageName) ?? ''
}

function authHeaders() {
  return { authorization: `Bearer ${apiKey()}` }
}

async function api(path, init = {}) {
  const response = await fetch(path, {
    ...init,
    headers: { ...authHeaders(), ...init.headers },
  })
  const type = response.headers.get('content-type') ?? ''
  const body = type.includes('json') ? await response.json() : await response.text()
  if (!response.ok) {
    if (response.status === 401) showKeyStatus('the API rejected this key', true)
    throw new ApiError(response.status, typeof body === 'object' ? body : undefined)
  }
  return body
}

/** Builds an element: h('td', { class: 'x' }, 'text', otherElement). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) element.setAttribute(name, String(value))
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue
    element.append(child instanceof Node ? child : String(child))
  }
  return element
}

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(svgNamespace, tag)
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value))
  for (const child of children) element.append(child)
  return element
}

function table(headings, rows) {
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, ...headings.map((heading) => h('th', {}, heading)))),
    h('tbody', {}, ...rows),
  )
}

function panelBody(id) {
  return document.querySelector(`#${id} .body`)
}

/** What a panel shows when its endpoint failed: 404 means the API doesn't serve it. */
function showPanelError(id, error) {
  const body = panelBody(id)
  if (error instanceof ApiError && error.status === 404) {
    body.replaceChildren(
      h('p', { class: 'unavailable' }, 'not available (this API has no listing)'),
    )
  } else if (error instanceof ApiError && error.status === 403) {
    body.replaceChildren(h('p', { class: 'error' }, `forbidden: ${error.message}`))
  } else {
    body.replaceChildren(h('p', { class: 'error' }, `error: ${error.message}`))
  }
}

function showKeyStatus(text, isError = false) {
  const status = document.getElementById('key-status')
  status.textContent = text
  status.className = isError ? 'error' : 'muted'
}

function ago(iso) {
  const ms = Date.now() - Date.parse(iso)
  if (!Number.isFinite(ms)) return ''
  if (ms < 60_000) return `${Math.max(0, Math.round(ms / 1000))} s ago`
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`
  return new Date(iso).toLocaleString()
}

function percent(fraction) {
  return `${(fraction * 100).toFixed(1)}%`
}

// --- the ring -------------------------------------------------------------------------

function regionColors(nodes) {
  const regions = [...new Set(nodes.map((node) => node.region))].sort()
  return new Map(regions.map((region, index) => [region, palette[index % palette.length]]))
}

/** A donut sector from fraction `start` to `end` of the circle, clockwise from the top. */
function sectorPath(start, end, outer, inner) {
  const point = (fraction, radius) => {
    const angle = fraction * 2 * Math.PI - Math.PI / 2
    return `${(radius * Math.cos(angle)).toFixed(3)} ${(radius * Math.sin(angle)).toFixed(3)}`
  }
  const large = end - start > 0.5 ? 1 : 0
  return (
    `M ${point(start, outer)} A ${outer} ${outer} 0 ${large} 1 ${point(end, outer)} ` +
    `L ${point(end, inner)} A ${inner} ${inner} 0 ${large} 0 ${point(start, inner)} Z`
  )
}

/** Sector paths for [start, end): a full circle can't be one SVG arc, so halves at most. */
function sectors(start, end, outer, inner) {
  if (end - start <= 0.5) return [sectorPath(start, end, outer, inner)]
  const middle = (start + end) / 2
  return [sectorPath(start, middle, outer, inner), sectorPath(middle, end, outer, inner)]
}

function drawRing() {
  const { ring, arcs } = state
  if (!ring || !arcs) return
  const colors = regionColors(arcs.nodes)
  const regionOf = new Map(arcs.nodes.map((node) => [node.id, node.region]))
  const groups = new Map(
    [...colors.keys()].map((region) => [
      region,
      svg('g', { 'data-region': region, fill: colors.get(region) }, titleOf(region)),
    ]),
  )
  // Outer band: where each node's keys lie around the hash space (GET /ring/arcs).
  for (const arc of arcs.arcs) {
    groups
      .get(regionOf.get(arc.node))
      ?.append(
        ...sectors(arc.start, arc.end, 120, 96).map((d) =>
          svg('path', { d, 'data-node': arc.node }),
        ),
      )
  }
  // Inner band: how much each node holds, one sector per node, nodes of a region together.
  let shareStart = 0
  const byRegion = [...arcs.nodes].sort(
    (left, right) => left.region.localeCompare(right.region) || left.id.localeCompare(right.id),
  )
  for (const node of byRegion) {
    const shareEnd = Math.min(1, shareStart + node.share)
    groups
      .get(node.region)
      ?.append(
        ...sectors(shareStart, shareEnd, 90, 72).map((d) =>
          svg(
            'path',
            { d, 'data-node': node.id, class: 'share' },
            titleOf(`${node.id}: ${percent(node.share)}`),
          ),
        ),
      )
    shareStart = shareEnd
  }
  const labels = [...colors.keys()].map((region, index, all) =>
    svg(
      'text',
      {
        x: 0,
        y: (index - (all.length - 1) / 2) * 16 + 4,
        'text-anchor': 'middle',
        'font-size': 11,
        fill: colors.get(region),
        'data-region-label': region,
      },
      document.createTextNode(region),
    ),
  )
  document.getElementById('ring-svg').replaceChildren(...groups.values(), ...labels)
  document
    .querySelector('#ring-nodes tbody')
    .replaceChildren(
      ...arcs.nodes.map((node) =>
        h(
          'tr',
          { 'data-node': node.id },
          h(
            'td',
            {},
            h('span', { class: 'swatch', style: `background:${colors.get(node.region)}` }),
            node.id,
          ),
          h('td', {}, node.region),
          h('td', {}, node.weight),
          h('td', {}, percent(node.share)),
        ),
      ),
    )
  document.getElementById('ring-version').textContent = `version ${ring.version}, ${ring.state}`
  drawMigration()
}

function titleOf(text) {
  const title = document.createElementNS(svgNamespace, 'title')
  title.textContent = text
  return title
}

function drawMigration() {
  const migration = state.ring?.migration
  const box = document.getElementById('migration')
  box.hidden = !migration
  if (!migration) return
  const { phase, fromVersion, ranges, keys } = migration
  document.getElementById('migration-text').textContent =
    `from version ${fromVersion}, phase ${phase}: ranges ${ranges.done}/${ranges.total}, ` +
    `keys moved ${keys.moved} of ${keys.scanned} scanned`
  const progress = document.getElementById('migration-progress')
  progress.max = Math.max(1, ranges.total)
  progress.value = ranges.done
}

async function refreshRing() {
  const ring = await api('/ring')
  const versionChanged = ring.version !== state.ring?.version
  state.ring = ring
  if (versionChanged || !state.arcs) state.arcs = await api(`/ring/arcs?segments=${arcSegments}`)
  drawRing()
  if (ring.state === 'migrating' && !state.migrationStream) followMigration()
}

function followMigration() {
  state.migrationStream = true
  streamEvents('/ring/migration/events?timeoutSeconds=600', async (ring) => {
    const versionChanged = ring.version !== state.ring?.version
    state.ring = ring
    if (versionChanged) state.arcs = await api(`/ring/arcs?segments=${arcSegments}`)
    drawRing()
  })
    .catch(() => undefined)
    .finally(() => {
      state.migrationStream = false
    })
}

// --- server-sent events over fetch ------------------------------------------------------

/**
 * Reads an API event stream (`progress` events, then `end`, `timeout` or `reconnect`) and
 * calls onProgress with each progress event's data. On `reconnect` or `timeout` it opens the
 * stream again with Last-Event-ID, so only changes come; `end` finishes it.
 */
async function streamEvents(path, onProgress) {
  let lastEventId
  for (let attempt = 0; attempt < streamAttemptsMax; attempt++) {
    const headers = authHeaders()
    if (lastEventId) headers['last-event-id'] = lastEventId
    const response = await fetch(path, { headers })
    if (!response.ok || !response.body) throw new ApiError(response.status)
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    let event = { type: 'message', data: [], id: undefined }
    let ended = false
    let retryMs = 1_000
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      buffer += value
      const lines = buffer.split('\n')
      buffer = lines.pop() ?? ''
      for (const rawLine of lines) {
        const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine
        if (line === '') {
          if (event.type === 'progress' && event.data.length > 0) {
            if (event.id) lastEventId = event.id
            await onProgress(JSON.parse(event.data.join('\n')))
          }
          if (event.type === 'end') ended = true
          event = { type: 'message', data: [], id: undefined }
          continue
        }
        const colon = line.indexOf(':')
        if (colon === 0) continue
        const field = colon < 0 ? line : line.slice(0, colon)
        const fieldValue = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (field === 'event') event.type = fieldValue
        else if (field === 'data') event.data.push(fieldValue)
        else if (field === 'id') event.id = fieldValue
        else if (field === 'retry' && /^\d+$/.test(fieldValue)) retryMs = Number(fieldValue)
      }
    }
    if (ended) return
    await new Promise((resolve) => setTimeout(resolve, retryMs))
  }
}

// --- regions, transactions, locks -----------------------------------------------------------

async function refreshRegions() {
  try {
    const { regions } = await api('/regions')
    const ms = (value) => (value === null ? '–' : `${value.toFixed(1)} ms`)
    panelBody('regions-panel').replaceChildren(
      table(
        ['region', 'state', 'since', 'p50 / p99', 'calls / failed'],
        regions.map((region) =>
          h(
            'tr',
            { 'data-region': region.region },
            h('td', {}, region.region),
            h(
              'td',
              { class: `state-${region.state}`, title: region.lastError ?? '' },
              region.state,
            ),
            h('td', {}, ago(region.since)),
            h('td', {}, `${ms(region.p50Ms)} / ${ms(region.p99Ms)}`),
            h('td', {}, `${region.calls} / ${region.failures}`),
          ),
        ),
      ),
    )
  } catch (error) {
    showPanelError('regions-panel', error)
  }
}

async function refreshTransactions() {
  try {
    const { transactions } = await api('/txn?state=in-doubt&limit=20')
    panelBody('txn-panel').replaceChildren(
      transactions.length === 0
        ? h('p', { class: 'muted' }, 'none: every transaction is decided and applied')
        : table(
            ['id', 'state', 'protocol', 'participants', 'started'],
            transactions.map((record) =>
              h(
                'tr',
                { 'data-txn-id': record.id },
                h('td', {}, record.id),
                h('td', {}, record.state),
                h('td', {}, record.protocol),
                h(
                  'td',
                  {},
                  record.participants.map((participant) => participant.region).join(', '),
                ),
                h('td', {}, ago(new Date(record.createdAtMs).toISOString())),
              ),
            ),
          ),
    )
  } catch (error) {
    showPanelError('txn-panel', error)
  }
}

/**
 * Up to `itemsMax` items of a cursor listing (`{ items, nextCursor }`), reading at most
 * listingPagesMax pages; `more` says whether the listing goes on.
 */
async function listing(path, itemsMax) {
  const items = []
  let cursor
  for (let page = 0; page < listingPagesMax && items.length < itemsMax; page++) {
    const separator = path.includes('?') ? '&' : '?'
    const limit = `limit=${itemsMax - items.length}`
    const after = cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''
    const answer = await api(`${path}${separator}${limit}${after}`)
    items.push(...answer.items)
    cursor = answer.nextCursor ?? undefined
    if (!cursor) break
  }
  return { items, more: cursor !== undefined }
}

async function refreshLocks() {
  try {
    state.locks = await listing('/locks?held=true', 50)
    drawLocks()
  } catch (error) {
    state.locks = undefined
    showPanelError('locks-panel', error)
  }
}

function drawLocks() {
  if (!state.locks) return
  const { items, more } = state.locks
  const remaining = (expiresAt) => {
    if (!expiresAt) return '–'
    const ms = Date.parse(expiresAt) - Date.now()
    return ms > 0 ? `${(ms / 1000).toFixed(1)} s` : 'expired'
  }
  const children = [
    items.length === 0 && !more
      ? h('p', { class: 'muted' }, 'no lock is held')
      : items.length === 0
        ? h('p', { class: 'muted' }, `no held lock in the first ${listingPagesMax} pages`)
        : table(
            ['name', 'holder', 'fence', 'lease left'],
            items.map((lock) =>
              h(
                'tr',
                { 'data-lock': lock.name },
                h('td', {}, lock.name),
                h('td', {}, lock.holder ?? '–'),
                h('td', {}, lock.fence),
                h('td', {}, remaining(lock.expiresAt)),
              ),
            ),
          ),
    more && items.length > 0
      ? h('p', { class: 'muted' }, 'the listing goes on: more locks may be held than shown')
      : null,
  ]
  panelBody('locks-panel').replaceChildren(...children.filter(Boolean))
}

// --- jobs ----------------------------------------------------------------------------------

let jobsListing = 'unknown'

async function refreshJobs() {
  try {
    const { items } = await listing('/jobs', 20)
    jobsListing = 'available'
    for (const job of items) {
      // A streamed job is fresher than the listing; keep what the stream said.
      if (!state.jobStreams.has(job.id))
        state.jobs.set(job.id, { ...state.jobs.get(job.id), ...job })
    }
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) {
      showPanelError('jobs-panel', error)
      return
    }
    jobsListing = 'not available'
  }
  for (const job of state.jobs.values()) {
    if (!terminalJobStates.has(job.state)) followJob(job.id)
  }
  drawJobs()
}

function followJob(id) {
  if (state.jobStreams.has(id) || state.jobStreams.size >= jobStreamsMax) return
  state.jobStreams.add(id)
  streamEvents(`/jobs/${encodeURIComponent(id)}/events?timeoutSeconds=600`, (job) => {
    state.jobs.set(job.id, job)
    drawJobs()
  })
    .catch(() => undefined)
    .finally(() => {
      state.jobStreams.delete(id)
    })
}

function drawJobs() {
  const jobs = [...state.jobs.values()].sort((left, right) =>
    (right.createdAt ?? '').localeCompare(left.createdAt ?? ''),
  )
  const note =
    jobsListing === 'not available'
      ? h(
          'p',
          { class: 'unavailable', id: 'jobs-listing-note' },
          'job listing not available (this API has no GET /jobs): showing jobs submitted here',
        )
      : null
  const tasks = (job) => {
    if (!job.tasks) return '–'
    return h(
      'span',
      {},
      h('progress', { max: Math.max(1, job.tasks.total), value: job.tasks.done }),
      ` ${job.tasks.done}/${job.tasks.total}`,
    )
  }
  panelBody('jobs-panel').replaceChildren(
    ...[
      note,
      jobs.length === 0
        ? h('p', { class: 'muted' }, 'no jobs yet')
        : table(
            ['id', 'job', 'state', 'stage', 'tasks', 'created'],
            jobs.map((job) =>
              h(
                'tr',
                { 'data-job-id': job.id, 'data-state': job.state },
                h('td', {}, job.id),
                h('td', {}, job.job ?? ''),
                h(
                  'td',
                  { class: `state-${job.state}` },
                  job.state,
                  job.failure ? ` (${job.failure})` : '',
                ),
                h('td', {}, job.stage ?? ''),
                h('td', {}, tasks(job)),
                h('td', {}, job.createdAt ? ago(job.createdAt) : ''),
              ),
            ),
          ),
    ].filter(Boolean),
  )
}

async function submitJob(form) {
  const status = document.getElementById('job-form-status')
  const data = new FormData(form)
  const prefix = String(data.get('prefix') ?? '').trim()
  const records = String(data.get('records') ?? '')
    .split('\n')
    .filter((line) => line.trim() !== '')
  const spec = {
    job: String(data.get('job') ?? '').trim(),
    input: prefix ? { prefix } : { records },
    partitions: Number(data.get('partitions') || 1),
  }
  status.textContent = 'submitting…'
  status.className = 'muted'
  try {
    const job = await api('/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(spec),
    })
    state.jobs.set(job.id, job)
    status.textContent = `submitted ${job.id}`
    drawJobs()
    followJob(job.id)
  } catch (error) {
    status.textContent = `not submitted: ${error.message}`
    status.className = 'error'
  }
}

// --- wiring --------------------------------------------------------------------------------

async function refreshAll() {
  await Promise.all([
    refreshRing().catch((error) => {
      document.getElementById('ring-version').textContent = `error: ${error.message}`
    }),
    refreshRegions(),
    refreshTransactions(),
    refreshLocks(),
    refreshJobs(),
  ])
}

let refreshTimer

function connect() {
  document.getElementById('panels').hidden = false
  document.getElementById('forget-key').hidden = false
  showKeyStatus('connected')
  clearInterval(refreshTimer)
  refreshAll()
  refreshTimer = setInterval(refreshAll, refreshIntervalMs)
}

function start() {
  document.getElementById('key-form').addEventListener('submit', (submitted) => {
    submitted.preventDefault()
    const input = document.getElementById('api-key')
    sessionStorage.setItem(keyStorageName, input.value.trim())
    input.value = ''
    connect()
  })
  document.getElementById('forget-key').addEventListener('click', () => {
    sessionStorage.removeItem(keyStorageName)
    location.reload()
  })
  document.getElementById('job-form').addEventListener('submit', (submitted) => {
    submitted.preventDefault()
    submitJob(submitted.target)
  })
  // Lease countdowns move every second without asking the API.
  setInterval(drawLocks, 1_000)
  if (apiKey()) connect()
}

start()
