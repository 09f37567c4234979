// Summarizes a .cpuprofile: self time by function and by module (package or source
// folder), and total (inclusive) time of the functions whose names match a pattern.
//
//   npx tsx bench/support/profile-summary.ts /tmp/get.cpuprofile [top] [pattern]
import { readFileSync } from 'node:fs'

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: Node[]
  samples: number[]
  timeDeltas: number[]
}

const [file, topArgument, pattern] = process.argv.slice(2)
const top = Number(topArgument ?? 40)
const profile = JSON.parse(readFileSync(file!, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const parent = new Map<number, number>()
for (const node of profile.nodes)
  for (const child of node.children ?? []) parent.set(child, node.id)
const selfMicros = new Map<number, number>()
profile.samples.forEach((id, index) => {
  selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0))
})
const totalMicros = [...selfMicros.values()].reduce((sum, value) => sum + value, 0)
const idle = new Set(['(idle)', '(program)', '(garbage collector)'])

function moduleOf(url: string): string {
  if (!url) return '(native)'
  const modules = url.lastIndexOf('node_modules/')
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  if (url.startsWith('node:')) return url
  const repo = url.indexOf('/h15/')
  return repo >= 0
    ? url
        .slice(repo + 5)
        .split('/')
        .slice(0, 3)
        .join('/')
    : url
}
const label = (node: Node) =>
  `${node.callFrame.functionName || '(anonymous)'} ${moduleOf(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`

const percent = (micros: number) => `${((100 * micros) / totalMicros).toFixed(1).padStart(5)}%`
const print = (title: string, entries: Map<string, number>) => {
  console.log(`\n${title}`)
  for (const [name, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${percent(micros)}  ${name}`)
}

const selfByFunction = new Map<string, number>()
const selfByModule = new Map<string, number>()
const totalByFunction = new Map<string, number>()
for (const [id, micros] of selfMicros) {
  const node = byId.get(id)!
  const name = label(node)
  selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + micros)
  const module = idle.has(node.callFrame.functionName)
    ? node.callFrame.functionName
    : moduleOf(node.callFrame.url)
  selfByModule.set(module, (selfByModule.get(module) ?? 0) + micros)
  // Inclusive: once per distinct function on the stack.
  const seen = new Set<string>()
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const frame = label(byId.get(at)!)
    if (seen.has(frame)) continue
    seen.add(frame)
    totalByFunction.set(frame, (totalByFunction.get(frame) ?? 0) + micros)
  }
}
console.log(`${(totalMicros / 1e6).toFixed(2)} s sampled`)
print('self time by module', selfByModule)
print('self time by function', selfByFunction)
const matching = new Map(
  [...totalByFunction].filter(([name]) => (pattern ? new RegExp(pattern).test(name) : true)),
)
print(`total time by function${pattern ? ` matching /${pattern}/` : ''}`, matching)
