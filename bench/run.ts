// `npm run bench -- <name>` runs bench/<name>.ts. Benchmarks print a JSON line last;
// they are measurements, not tests, so nothing here asserts on time.
import { existsSync, readdirSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const name = process.argv[2]
const dir = fileURLToPath(new URL('.', import.meta.url))
const available = readdirSync(dir)
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts')
  .map((file) => file.slice(0, -3))

if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>   (available: ${available.join(', ') || 'none'})`)
  process.exit(2)
}
const file = `${dir}${name}.ts`
if (!existsSync(file)) process.exit(2)
await import(pathToFileURL(file).href)
