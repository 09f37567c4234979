#!/usr/bin/env node
// The `meridian` command. Workspaces export TypeScript source with no build step (see
// STYLE.md), so this entry bundles the CLI's source with esbuild on first use and whenever
// one of the bundle's inputs changes (their modification times are kept beside it), into a
// per-checkout directory under the OS temp directory; later runs import that one file,
// which starts in a fraction of the time a TypeScript loader needs. If bundling fails, it
// runs the source through tsx's loader instead.
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const entry = join(packageRoot, 'src', 'main.ts')
const cacheDirectory = join(
  tmpdir(),
  `meridian-cli-${createHash('sha256').update(packageRoot).digest('hex').slice(0, 16)}`,
)
const bundlePath = join(cacheDirectory, 'main.mjs')
const manifestPath = join(cacheDirectory, 'inputs.json')

/** Whether the bundle was built from the inputs as they are now. */
function bundleIsFresh() {
  try {
    const inputs = JSON.parse(readFileSync(manifestPath, 'utf8'))
    return Object.entries(inputs).every(([path, mtimeMs]) => statSync(path).mtimeMs === mtimeMs)
  } catch {
    return false
  }
}

async function bundle() {
  const { build } = await import('esbuild')
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: packageRoot,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    logLevel: 'silent',
    // CommonJS dependencies (commander, cli-progress) call require for Node built-ins.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  })
  const inputs = Object.fromEntries(
    Object.keys(result.metafile.inputs).map((input) => {
      const path = resolve(packageRoot, input)
      return [path, statSync(path).mtimeMs]
    }),
  )
  mkdirSync(cacheDirectory, { recursive: true })
  // Written aside and renamed, so a concurrent run never imports half a file.
  const unique = `${process.pid}-${Date.now()}`
  writeFileSync(`${bundlePath}.${unique}`, result.outputFiles[0].contents)
  renameSync(`${bundlePath}.${unique}`, bundlePath)
  writeFileSync(`${manifestPath}.${unique}`, JSON.stringify(inputs))
  renameSync(`${manifestPath}.${unique}`, manifestPath)
}

let target = bundlePath
if (!bundleIsFresh()) {
  try {
    await bundle()
  } catch {
    const { register } = await import('tsx/esm/api')
    register()
    target = entry
  }
}
await import(pathToFileURL(target).href)
