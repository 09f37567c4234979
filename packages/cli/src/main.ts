// `meridian`: Meridian's HTTP API from a shell, on the typed client (@meridian/client).
// Configured by MERIDIAN_URL and MERIDIAN_KEY (`npm start` prints the line to paste), or
// --url/--key. Every command takes --json for scripts. Exit codes: 0 ok, 1 error, 2 usage,
// 3 not found, 4 conflict or precondition failed (a held or lost lock, a stale version, a
// failed CAS); an API problem+json answer is one line on stderr.
import { Command, CommanderError } from 'commander'
import { jobCommands } from './commands/jobs'
import { kvCommands } from './commands/kv'
import { lockCommands } from './commands/lock'
import { adminCommands, ringCommands, txnCommand } from './commands/misc'
import {
  CliError,
  type ContextAction,
  color,
  contextOf,
  ExitCode,
  type GlobalOptions,
} from './context'

function withContext(run: ContextAction) {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command
    const context = contextOf(command.optsWithGlobals<GlobalOptions>())
    await (run as (context: unknown, ...rest: unknown[]) => Promise<void>)(
      context,
      ...args.slice(0, -1),
    )
  }
}

export function buildProgram(): Command {
  const program = new Command('meridian')
    .description("Meridian's HTTP API from a shell: KV, locks, transactions, jobs, the ring")
    .option('--url <url>', 'the API (default: $MERIDIAN_URL)')
    .option('--key <key>', 'an API key (default: $MERIDIAN_KEY)')
    .option('--json', 'print results as JSON (for scripts)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(color.red(text)) })
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict or precondition failed.',
    )
  kvCommands(program, withContext)
  lockCommands(program, withContext)
  txnCommand(program, withContext)
  jobCommands(program, withContext)
  ringCommands(program, withContext)
  adminCommands(program, withContext)
  // Subcommands inherit the exit override and error output, so usage errors exit 2.
  for (const command of allCommands(program)) command.exitOverride().showHelpAfterError()
  return program
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((child) => [child, ...allCommands(child)])
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv)
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version are "errors" that exit 0.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage
    }
    if (error instanceof CliError) {
      process.stderr.write(`${color.red('error')}: ${error.message}\n`)
      if (program.opts<GlobalOptions>().json && error.details)
        process.stderr.write(`${JSON.stringify(error.details)}\n`)
      return error.exitCode
    }
    process.stderr.write(`${color.red('error')}: ${(error as Error)?.stack ?? String(error)}\n`)
    return ExitCode.error
  }
}

process.exitCode = await main(process.argv)
