// `npm start`: the local runtime in the foreground until Ctrl-C (or SIGTERM), then
// everything it started is stopped in reverse order. Options come from the environment,
// validated before anything starts (packages/aws/src/settings.ts): PORT (default 3000),
// MERIDIAN_PERSIST (default 1: keep DynamoDB data and S3 objects under MERIDIAN_DATA_DIR,
// default .data; 0 for a throwaway run), MERIDIAN_CONCURRENCY for the number of
// invocation threads (default: cores), MERIDIAN_ADMIN_KEY for the bootstrap admin API
// key (default: a new one, printed once), and MERIDIAN_EDGE (default 1: the edge tier on
// PORT with one API per store region behind it, as deployed; 0: the home API alone on PORT).
// `npm start` runs this as `node --import tsx`, one Node process, not under the `tsx`
// command: that one runs the script in a child process and, on SIGINT, SIGKILLs the child
// unless the child reports the signal within 30 ms (then again 30 ms after relaying it
// itself). A runtime whose event loop was busy that long (a loaded machine) died before
// `shutdown` ran: Ctrl-C printed nothing and nothing was stopped in order.
//
// First: it sets environment defaults that must be in place before the SDK loads.
import './process-defaults'
import { parseSettings, SettingsError } from '@meridian/aws'
import { JavaMissingError } from './java'
import { startLocalRuntime } from './runtime'

// EMF metrics are for CloudWatch; locally they would only flood the terminal.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true'

const started = performance.now()
const log = (line: string) => console.log(`[meridian] ${line}`)

try {
  // Every variable at once, including those only the functions read: a bad one stops here.
  const settings = parseSettings(process.env)
  const runtime = await startLocalRuntime({
    port: settings.PORT,
    dataDirectory: settings.MERIDIAN_PERSIST ? settings.MERIDIAN_DATA_DIR : undefined,
    concurrency: settings.MERIDIAN_CONCURRENCY,
    adminApiKey: settings.MERIDIAN_ADMIN_KEY,
    edge: settings.MERIDIAN_EDGE,
    log,
  })
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  if (!settings.MERIDIAN_ADMIN_KEY) {
    log(
      `admin API key (shown once; set MERIDIAN_ADMIN_KEY to choose your own): ${runtime.adminApiKey}`,
    )
  }
  // For the CLI (`npx meridian`), a line to paste into another shell. A key the operator
  // chose stays out of the log: the line names the variable that holds it instead.
  const key = settings.MERIDIAN_ADMIN_KEY ? '"$MERIDIAN_ADMIN_KEY"' : runtime.adminApiKey
  log('for the CLI (npx meridian), paste into a shell:')
  console.log(`export MERIDIAN_URL=${runtime.url} MERIDIAN_KEY=${key}`)
  log(
    `ready in ${seconds} s: ${runtime.url}  (health: ${runtime.url}/health; dashboard: ${runtime.url}/dashboard; Ctrl-C stops everything)`,
  )

  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    log(`${signal}: stopping`)
    const force = setTimeout(() => process.exit(1), 15_000)
    force.unref()
    await runtime.stop()
    log('stopped')
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
} catch (error) {
  if (error instanceof JavaMissingError || error instanceof SettingsError) {
    console.error(`[meridian] ${error.message}`)
  } else {
    console.error('[meridian] failed to start:', error)
  }
  process.exit(1)
}
