// meridian lock acquire|release|status|run, and meridian locks list.
//
// `lock run NAME -- CMD …` timeline:
//   acquire (waiting up to --wait; a held lock after that is exit 4)
//   spawn CMD with MERIDIAN_FENCE=<fence> ──► renew every lease/3
//   renew answered 404/409 (released, taken over), or no renewal succeeded before the lease
//   ran out ──► lost: SIGTERM to CMD, SIGKILL after --kill-after, exit 4
//   CMD exits ──► stop renewing, release, exit with CMD's code (128+n for a signal n)
// The fence is what makes a late write of a CMD that outlived its lease harmless: pass it
// to `meridian kv put --fence` (or the Meridian-Fence header) and the store rejects it.
import { spawn } from 'node:child_process'
import { hostname } from 'node:os'
import type { Command } from 'commander'
import {
  ApiProblemError,
  CliError,
  type Context,
  color,
  ExitCode,
  expectStatus,
  listPages,
  table,
  type WithContext,
} from '../context'
import { durationMs, positiveInteger, usage } from '../parse'

/** The API's longest wait per acquire request; longer waits take several requests. */
const requestWaitMsMax = 20_000

interface Lease {
  name: string
  owner: string
  fence: number
  leaseUntilMs: number
}

const defaultOwner = () => `meridian-cli-${hostname().replace(/[^\x21-\x7e]/g, '-')}-${process.pid}`

async function acquire(
  context: Context,
  name: string,
  options: { leaseMs: number; waitMs: number; owner: string },
): Promise<Lease> {
  const deadlineMs = Date.now() + options.waitMs
  for (;;) {
    const waitMs = Math.max(0, Math.min(requestWaitMsMax, deadlineMs - Date.now()))
    const response = await context.client.locks[':name'].acquire.$post({
      param: { name },
      json: { owner: options.owner, leaseMs: options.leaseMs, waitMs },
    })
    try {
      const ok = await expectStatus(response, 200)
      return (await ok.json()) as Lease
    } catch (error) {
      const held = error instanceof ApiProblemError && error.problem.status === 409
      if (!held || Date.now() >= deadlineMs) throw error
    }
  }
}

async function release(context: Context, name: string, owner: string, fence: number) {
  const response = await context.client.locks[':name'].release.$post({
    param: { name },
    json: { owner, fence },
  })
  await expectStatus(response, 200)
}

function leaseOptions(options: { lease: string; wait: string; owner?: string }) {
  return {
    leaseMs: durationMs(options.lease, '--lease'),
    waitMs: durationMs(options.wait, '--wait'),
    owner: options.owner ?? defaultOwner(),
  }
}

export function lockCommands(program: Command, withContext: WithContext) {
  const lock = program.command('lock').description('lease locks with fencing tokens')

  lock
    .command('acquire <name>')
    .description('take a lease; prints its owner and fence')
    .option('--lease <duration>', 'lease length', '10s')
    .option('--wait <duration>', 'how long to wait while someone else holds it', '0s')
    .option('--owner <owner>', 'who holds it (default: meridian-cli-<host>-<pid>)')
    .action(
      withContext(
        async (context, name: string, options: { lease: string; wait: string; owner?: string }) => {
          const lease = await acquire(context, name, leaseOptions(options))
          context.print(
            lease,
            () =>
              `acquired ${lease.name}: owner ${lease.owner}, fence ${color.bold(String(lease.fence))}, until ${new Date(lease.leaseUntilMs).toISOString()}`,
          )
        },
      ),
    )

  lock
    .command('release <name>')
    .description('release a lease you hold')
    .requiredOption('--owner <owner>', 'the owner of the lease')
    .requiredOption('--fence <fence>', 'the fence of the lease')
    .action(
      withContext(async (context, name: string, options: { owner: string; fence: string }) => {
        const fence = positiveInteger(options.fence, '--fence')
        await release(context, name, options.owner, fence)
        context.print({ name, fence, released: true }, () => `released ${name} (fence ${fence})`)
      }),
    )

  lock
    .command('status <name>')
    .description('show a lock: its last fence and, while held, the holder')
    .action(
      withContext(async (context, name: string) => {
        const response = await context.client.locks[':name'].$get({ param: { name } })
        const state = await (await expectStatus(response, 200)).json()
        context.print(state, () =>
          state.held
            ? `${name}: held by ${state.owner} (fence ${state.fence}) until ${new Date(state.leaseUntilMs ?? 0).toISOString()}`
            : `${name}: free (last fence ${state.fence})`,
        )
      }),
    )

  lock
    .command('run <name> <command...>')
    .description(
      'run a command while holding the lock (renewed; fence in MERIDIAN_FENCE); exits with its code',
    )
    .option('--lease <duration>', 'lease length; renewed every third of it', '10s')
    .option('--wait <duration>', 'how long to wait while someone else holds it', '0s')
    .option('--owner <owner>', 'who holds it (default: meridian-cli-<host>-<pid>)')
    .option(
      '--kill-after <duration>',
      'SIGKILL this long after SIGTERM when the lock is lost',
      '5s',
    )
    .action(
      withContext(
        async (
          context,
          name: string,
          command: string[],
          options: { lease: string; wait: string; owner?: string; killAfter: string },
        ) => {
          if (command.length === 0) throw usage('lock run needs a command after --')
          const settings = leaseOptions(options)
          const lease = await acquire(context, name, settings)
          context.note(color.dim(`meridian: holding ${name} with fence ${lease.fence}`))
          const code = await runHolding(context, lease, command, {
            leaseMs: settings.leaseMs,
            killAfterMs: durationMs(options.killAfter, '--kill-after'),
          })
          process.exitCode = code
        },
      ),
    )

  program
    .command('locks')
    .description("the tenant's locks")
    .command('list')
    .description("list the tenant's locks by name")
    .option('--held <held>', 'only held (true) or only free (false) locks')
    .option('--limit <count>', 'locks per page (1–100)', '100')
    .option('--all', 'follow every page')
    .action(
      withContext(async (context, options: { held?: string; limit: string; all?: boolean }) => {
        if (options.held !== undefined && options.held !== 'true' && options.held !== 'false')
          throw usage('--held: true or false')
        const held = options.held as 'true' | 'false' | undefined
        const { items, nextCursor: cursor } = await listPages(async (cursor) => {
          const response = await context.client.locks.$get({
            query: {
              limit: String(positiveInteger(options.limit, '--limit')),
              ...(held && { held }),
              ...(cursor && { cursor }),
            },
          })
          return (await expectStatus(response, 200)).json()
        }, options.all === true)
        context.print(
          { items, nextCursor: cursor },
          () =>
            table([
              ['NAME', 'HELD', 'FENCE', 'HOLDER', 'EXPIRES'],
              ...items.map((item) => [
                item.name,
                item.held ? color.green('yes') : 'no',
                String(item.fence),
                item.holder ?? '',
                item.expiresAt ?? '',
              ]),
            ]) + (cursor ? `\n${color.dim('(more: --all)')}` : ''),
        )
      }),
    )
}

/** Runs the command under the lease; resolves to the exit code meridian should end with. */
async function runHolding(
  context: Context,
  lease: Lease,
  command: string[],
  options: { leaseMs: number; killAfterMs: number },
): Promise<number> {
  const child = spawn(command[0]!, command.slice(1), {
    stdio: 'inherit',
    env: {
      ...process.env,
      MERIDIAN_FENCE: String(lease.fence),
      MERIDIAN_LOCK_NAME: lease.name,
      MERIDIAN_LOCK_OWNER: lease.owner,
    },
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once('exit', (code, signal) => resolve({ code, signal }))
      child.once('error', reject)
    },
  )
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal)
  const onInterrupt = forward('SIGINT')
  const onTerminate = forward('SIGTERM')
  process.on('SIGINT', onInterrupt)
  process.on('SIGTERM', onTerminate)

  let lost: string | undefined
  let leaseUntilMs = Date.now() + options.leaseMs
  let killTimer: NodeJS.Timeout | undefined
  const loseLock = (reason: string) => {
    if (lost !== undefined) return
    lost = reason
    process.stderr.write(`meridian: lost lock ${lease.name}: ${reason}; stopping the command\n`)
    child.kill('SIGTERM')
    killTimer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs)
  }
  const renewEveryMs = Math.max(50, Math.floor(options.leaseMs / 3))
  const renewer = setInterval(async () => {
    if (lost !== undefined) return
    const sentAtMs = Date.now()
    try {
      const response = await context.client.locks[':name'].renew.$post({
        param: { name: lease.name },
        json: { owner: lease.owner, fence: lease.fence, leaseMs: options.leaseMs },
      })
      await expectStatus(response, 200)
      leaseUntilMs = sentAtMs + options.leaseMs
    } catch (error) {
      const status = error instanceof ApiProblemError ? error.problem.status : undefined
      if (status === 404 || status === 409) loseLock((error as Error).message)
      else if (Date.now() >= leaseUntilMs) loseLock(`no renewal succeeded: ${String(error)}`)
    }
  }, renewEveryMs)

  let outcome: { code: number | null; signal: NodeJS.Signals | null }
  try {
    outcome = await exited
  } catch (error) {
    outcome = { code: null, signal: null }
    process.stderr.write(`meridian: cannot run ${command[0]}: ${(error as Error).message}\n`)
  } finally {
    clearInterval(renewer)
    clearTimeout(killTimer)
    process.off('SIGINT', onInterrupt)
    process.off('SIGTERM', onTerminate)
  }
  if (lost !== undefined) {
    throw new CliError(`lock ${lease.name} was lost while the command ran`, ExitCode.conflict)
  }
  await release(context, lease.name, lease.owner, lease.fence)
  context.note(color.dim(`meridian: released ${lease.name}`))
  if (outcome.signal) return 128 + (signalNumbers[outcome.signal] ?? 0)
  return outcome.code ?? ExitCode.error
}

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGTERM: 15,
}
