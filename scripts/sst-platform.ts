// Prepares SST's platform for offline checks: `sst install` writes the platform of the
// installed `sst` (its component sources and config.d.ts, the globals sst.config.ts uses)
// to .sst/platform and installs its dependencies (@pulumi/pulumi, @pulumi/aws) with npm.
// With SST_SKIP_DEPENDENCY_CHECK and SST_NO_BUN it downloads neither Pulumi nor Bun, so it
// needs only the npm registry. `npm run typecheck` (tsconfig.infra.json) and the infra
// test (test/unit/infra) read what it writes. Skipped when the platform already matches.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..')
export const platformDirectory = join(repositoryRoot, '.sst', 'platform')
/** Written last, so a prepare that stopped halfway is redone, not trusted. */
const preparedMarker = join(platformDirectory, 'meridian-prepared.json')
export const prepareCommand = 'npm run infra:prepare'

/** The version of the `sst` package in node_modules (what `npm run deploy` runs). */
export function installedSstVersion(): string {
  // Read by path: sst's `exports` doesn't list package.json.
  const manifest = JSON.parse(
    readFileSync(join(repositoryRoot, 'node_modules', 'sst', 'package.json'), 'utf8'),
  )
  return manifest.version as string
}

/** Why the prepared platform can't be used, or undefined when it matches the installed sst. */
export function platformProblem(): string | undefined {
  const installed = installedSstVersion()
  if (!existsSync(preparedMarker)) return `.sst/platform is not prepared for sst ${installed}`
  const { sstVersion } = JSON.parse(readFileSync(preparedMarker, 'utf8')) as {
    sstVersion: string
  }
  if (sstVersion !== installed) {
    return `.sst/platform was prepared for sst ${sstVersion}, but sst ${installed} is installed`
  }
  return undefined
}

function prepare(): void {
  const problem = platformProblem()
  if (!problem) {
    console.log(`infra:prepare: .sst/platform matches sst ${installedSstVersion()}; nothing to do`)
    return
  }
  console.log(`infra:prepare: ${problem}; running sst install (about a minute)`)
  const started = Date.now()
  const result = spawnSync(
    join(repositoryRoot, 'node_modules', '.bin', 'sst'),
    ['install', '--stage', 'dev'],
    {
      cwd: repositoryRoot,
      stdio: 'inherit',
      env: {
        ...process.env,
        SST_SKIP_DEPENDENCY_CHECK: '1',
        SST_NO_BUN: '1',
        SST_TELEMETRY_DISABLED: '1',
      },
    },
  )
  if (result.status !== 0) {
    console.error(`infra:prepare: sst install failed (exit ${result.status ?? result.signal})`)
    process.exit(1)
  }
  for (const required of ['config.d.ts', 'src/auto/run.ts', 'node_modules/@pulumi/aws']) {
    if (!existsSync(join(platformDirectory, required))) {
      console.error(`infra:prepare: sst install left no .sst/platform/${required}`)
      process.exit(1)
    }
  }
  writeFileSync(preparedMarker, `${JSON.stringify({ sstVersion: installedSstVersion() })}\n`)
  console.log(`infra:prepare: done in ${Math.round((Date.now() - started) / 1000)} s`)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) prepare()
