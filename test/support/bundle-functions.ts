// Bundles every Lambda handler the way SST does (esbuild: one ESM file per function for
// Node 22), and reports what went in: size, the packages bundled, the exports of the
// entry, and the SST resource names the code can reach. Infra tests use it to prove
// that each handler exists and exports its function, that no bundle pulls in a dev
// dependency, and that every resource the code reads is linked.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { build, type Metafile } from 'esbuild'

export interface HandlerBundle {
  handler: string
  entry: string
  exportName: string
  exists: boolean
  exports: string[]
  bytes: number
  packages: string[]
  /** Every source file esbuild read, as paths relative to the repository root. */
  inputs: string[]
  code: string
}

/**
 * Mirrors SST v3's Node bundling (pkg/runtime/node/build.go): ESM, keepNames, module
 * before main, ES2023 for nodejs22.x, only sharp and pg-native external: the AWS SDK is
 * bundled, not taken from the Lambda runtime. The banner shims require for CommonJS deps.
 */
export const sstEsbuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'es2023',
  keepNames: true,
  mainFields: ['module', 'main'] as string[],
  external: ['sharp', 'pg-native'] as string[],
  banner: {
    js: "import { createRequire as topLevelCreateRequire } from 'module';\nconst require = topLevelCreateRequire(import.meta.url);",
  },
  write: false,
  metafile: true,
  minify: false,
  logLevel: 'silent',
} as const

export async function bundleHandler(root: string, handler: string): Promise<HandlerBundle> {
  const dot = handler.lastIndexOf('.')
  const entry = join(root, `${handler.slice(0, dot)}.ts`)
  const exportName = handler.slice(dot + 1)
  if (!existsSync(entry)) {
    return {
      handler,
      entry,
      exportName,
      exists: false,
      exports: [],
      bytes: 0,
      packages: [],
      inputs: [],
      code: '',
    }
  }
  const result = await build({
    ...sstEsbuildOptions,
    entryPoints: [entry],
    outfile: 'out.mjs',
    absWorkingDir: root,
  })
  const output = result.outputFiles?.[0]
  if (!output) throw new Error(`esbuild produced no output for ${entry}`)
  const metafile = result.metafile as Metafile
  const meta = Object.values(metafile.outputs)[0]!
  return {
    handler,
    entry,
    exportName,
    exists: true,
    exports: meta.exports,
    bytes: output.contents.byteLength,
    packages: packagesOf(root, Object.keys(metafile.inputs)),
    inputs: Object.keys(metafile.inputs),
    code: output.text,
  }
}

/** `node_modules/@scope/name/x.js` → `@scope/name`; workspace sources are not packages. */
export function packagesOf(root: string, inputs: string[]): string[] {
  const names = new Set<string>()
  for (const input of inputs) {
    const parts = relative(root, join(root, input)).split(sep)
    const index = parts.lastIndexOf('node_modules')
    if (index < 0) continue
    const first = parts[index + 1]
    if (!first) continue
    names.add(first.startsWith('@') ? `${first}/${parts[index + 2]}` : first)
  }
  return [...names].sort()
}

/** Installed packages that production installs (`npm ls --omit=dev`) include. */
export function productionPackages(root: string): Set<string> {
  // npm ls exits non-zero on mere warnings (an unmet optional peer); its list is still whole.
  const { stdout: output } = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: root,
    encoding: 'utf8',
  })
  return new Set(
    packagesOf(
      root,
      output
        .split('\n')
        .filter(Boolean)
        .map((line) => relative(root, line)),
    ),
  )
}
