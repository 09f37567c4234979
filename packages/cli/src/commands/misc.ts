// meridian txn, ring show|set, keys create|list|revoke, health.
import { readFile } from 'node:fs/promises'
import { ownershipShares, positionCount, type RingConfig, ringFromConfig } from '@meridian/ring'
import type { Command } from 'commander'
import { color, ExitCode, expectStatus, problemOf, table, type WithContext } from '../context'
import { assignment, collect, usage, versionCheck } from '../parse'

type Operation =
  | { op: 'put'; key: string; value: string }
  | { op: 'delete'; key: string }
  | { op: 'check'; key: string; version: number | 'absent' }

export function txnCommand(program: Command, withContext: WithContext) {
  program
    .command('txn [file]')
    .description(
      'commit operations atomically: a JSON file ({"operations":[…]} or […]) and/or --put/--delete/--check',
    )
    .option('--put <key=value>', 'store a value (repeatable)', collect)
    .option('--delete <key>', 'delete a key (repeatable)', collect)
    .option('--check <key@version>', 'require a version, or @absent (repeatable)', collect)
    .option('--id <id>', 'a transaction id: retries with it are idempotent')
    .option('--protocol <protocol>', '2pc or 3pc')
    .action(
      withContext(
        async (
          context,
          file: string | undefined,
          options: {
            put?: string[]
            delete?: string[]
            check?: string[]
            id?: string
            protocol?: string
          },
        ) => {
          const operations: unknown[] = []
          if (file !== undefined) {
            const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown
            const listed = Array.isArray(parsed)
              ? parsed
              : (parsed as { operations?: unknown }).operations
            if (!Array.isArray(listed))
              throw usage(`${file}: expected {"operations":[…]} or an array of operations`)
            operations.push(...listed)
          }
          for (const text of options.check ?? []) {
            const [key, version] = versionCheck(text, '--check')
            operations.push({ op: 'check', key, version } satisfies Operation)
          }
          for (const text of options.put ?? []) {
            const [key, value] = assignment(text, '--put')
            operations.push({ op: 'put', key, value } satisfies Operation)
          }
          for (const key of options.delete ?? [])
            operations.push({ op: 'delete', key } satisfies Operation)
          if (operations.length === 0) throw usage('txn needs operations: a file or --put/--check')
          if (options.protocol !== undefined && !['2pc', '3pc'].includes(options.protocol))
            throw usage('--protocol: 2pc or 3pc')
          const response = await context.client.txn.$post({
            json: {
              operations: operations as never,
              ...(options.id !== undefined && { id: options.id }),
              ...(options.protocol !== undefined && {
                protocol: options.protocol as '2pc' | '3pc',
              }),
            },
          })
          const outcome = await (await expectStatus(response, 200)).json()
          context.print(outcome, () =>
            [
              `${color.green(outcome.state)} ${outcome.id}${outcome.replayed ? ' (replayed)' : ''}`,
              ...outcome.operations.map(
                (operation) =>
                  `  ${operation.op} ${operation.key}${operation.version !== undefined ? ` → version ${operation.version}` : ''}`,
              ),
            ].join('\n'),
          )
        },
      ),
    )
}

/** Letters for nodes in the hash-space picture, in config order. */
const nodeSymbols = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const pictureWidth = 64

export function ringCommands(program: Command, withContext: WithContext) {
  const ring = program.command('ring').description('the consistent-hash ring')

  ring
    .command('show')
    .description('owners and load per region and node, and a picture of the hash space')
    .action(
      withContext(async (context) => {
        const response = await context.client.ring.$get()
        const status = await (await expectStatus(response, 200)).json()
        const config = status.config as unknown as RingConfig
        const built = ringFromConfig(config)
        const shares = ownershipShares(built)
        const nodes = config.nodes.map((node, index) => ({
          id: node.id,
          region: node.region,
          weight: node.weight ?? 1,
          share: shares.get(node.id) ?? 0,
          symbol: nodeSymbols[index % nodeSymbols.length]!,
        }))
        const regions = new Map<string, { nodes: number; weight: number; share: number }>()
        for (const node of nodes) {
          const region = regions.get(node.region) ?? { nodes: 0, weight: 0, share: 0 }
          region.nodes++
          region.weight += node.weight
          region.share += node.share
          regions.set(node.region, region)
        }
        const symbolOf = new Map(nodes.map((node) => [node.id, node.symbol]))
        // One character per 1/64 of the hash space: the owner at the middle of that slice.
        const picture = Array.from({ length: pictureWidth }, (_, slice) => {
          const position = Math.floor(((slice + 0.5) / pictureWidth) * positionCount)
          return symbolOf.get(built.nodeAt(position).id) ?? '?'
        }).join('')
        const result = {
          version: status.version,
          state: status.state,
          nodes: nodes.map(({ symbol: _symbol, ...node }) => node),
          regions: Object.fromEntries(regions),
          picture,
          ...(status.migration && { migration: status.migration }),
        }
        const percent = (share: number) => `${(share * 100).toFixed(1)}%`
        context.print(result, () =>
          [
            `ring version ${status.version}, ${status.state === 'stable' ? color.green('stable') : color.yellow(status.state)}`,
            '',
            table([
              ['REGION', 'NODES', 'WEIGHT', 'LOAD'],
              ...[...regions].map(([name, region]) => [
                name,
                String(region.nodes),
                String(region.weight),
                percent(region.share),
              ]),
            ]),
            '',
            table([
              ['', 'NODE', 'REGION', 'WEIGHT', 'LOAD'],
              ...nodes.map((node) => [
                node.symbol,
                node.id,
                node.region,
                String(node.weight),
                percent(node.share),
              ]),
            ]),
            '',
            `hash space 0 … 2^53: ${picture}`,
            ...(status.migration
              ? [
                  `migration from version ${status.migration.fromVersion}: ${status.migration.phase}, ranges ${status.migration.ranges.done}/${status.migration.ranges.total}`,
                ]
              : []),
          ].join('\n'),
        )
      }),
    )

  ring
    .command('set <file>')
    .description('change the ring to the config in FILE ({"nodes":[…]}); keys move online')
    .option('--if-match <version>', 'the ring version being replaced (default: the current one)')
    .action(
      withContext(async (context, file: string, options: { ifMatch?: string }) => {
        const config = JSON.parse(await readFile(file, 'utf8')) as { nodes?: unknown }
        if (!Array.isArray(config.nodes)) throw usage(`${file}: expected {"nodes":[…]}`)
        let version = options.ifMatch
        if (version === undefined) {
          const current = await expectStatus(await context.client.ring.$get(), 200)
          version = String((await current.json()).version)
        }
        const response = await context.client.ring.$put({
          header: { 'if-match': `"${version}"` },
          json: config as never,
        })
        const status = await (await expectStatus(response, 202)).json()
        context.print(
          status,
          () =>
            `ring version ${status.version} (${status.state}); follow it with: meridian ring show`,
        )
      }),
    )
}

export function adminCommands(program: Command, withContext: WithContext) {
  const keys = program.command('keys').description('API keys (needs an admin key)')

  keys
    .command('create')
    .description('create an API key; its secret is shown once')
    .requiredOption('--tenant <tenant>', 'the tenant the key acts for')
    .requiredOption(
      '--scope <scope>',
      'kv:read, kv:write, lock, txn, jobs or admin (repeatable)',
      collect,
    )
    .option('--name <name>', 'a label', 'cli')
    .action(
      withContext(async (context, options: { tenant: string; scope: string[]; name: string }) => {
        const response = await context.client.admin.keys.$post({
          json: { tenant: options.tenant, scopes: options.scope as never, name: options.name },
        })
        const created = await (await expectStatus(response, 201)).json()
        context.print(
          created,
          () =>
            `created key ${created.id} for ${created.tenant} (${created.scopes.join(', ')})\n${created.key}`,
        )
      }),
    )

  keys
    .command('list')
    .description("list a tenant's keys (never their secrets)")
    .requiredOption('--tenant <tenant>', 'the tenant')
    .action(
      withContext(async (context, options: { tenant: string }) => {
        const response = await context.client.admin.keys.$get({ query: { tenant: options.tenant } })
        const listed = await (await expectStatus(response, 200)).json()
        context.print(listed, () =>
          table([
            ['ID', 'NAME', 'SCOPES', 'CREATED', 'REVOKED'],
            ...listed.keys.map((key) => [
              key.id,
              key.name,
              key.scopes.join(','),
              new Date(key.createdAtMs).toISOString(),
              key.revokedAtMs ? new Date(key.revokedAtMs).toISOString() : '',
            ]),
          ]),
        )
      }),
    )

  keys
    .command('revoke <id>')
    .description('revoke an API key')
    .action(
      withContext(async (context, id: string) => {
        await expectStatus(await context.client.admin.keys[':id'].$delete({ param: { id } }), 204)
        context.print({ id, revoked: true }, () => `revoked ${id}`)
      }),
    )

  program
    .command('health')
    .description('whether the API and its engines are up (exit 1 if not)')
    .action(
      withContext(async (context) => {
        const response = await context.client.health.$get()
        if (response.status !== 200 && response.status !== 503) throw await problemOf(response)
        const report = (await response.json()) as {
          status: string
          engines: Record<string, unknown>
        }
        context.print(report, () =>
          [
            `${report.status === 'ok' ? color.green('ok') : color.red(report.status)} ${context.url}`,
            ...Object.entries(report.engines).map(
              ([engine, state]) => `  ${engine}: ${engineLine(state)}`,
            ),
          ].join('\n'),
        )
        if (report.status !== 'ok') process.exitCode = ExitCode.error
      }),
    )
}

function engineLine(state: unknown): string {
  const probe = state as { ok?: boolean; latencyMs?: number; error?: string }
  if (probe.ok === true) return `${color.green('up')} (${Math.round(probe.latencyMs ?? 0)} ms)`
  if (probe.ok === false) return `${color.red('down')}${probe.error ? ` — ${probe.error}` : ''}`
  return JSON.stringify(state)
}
