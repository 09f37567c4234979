// The API serves its web assets from generated modules (packages/api/scripts/
// generate-web-assets.ts); this fails while one is stale, naming the command that fixes it.
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { webAssetModules } from '../../../packages/api/scripts/generate-web-assets'

describe('generated web assets', () => {
  it('match their sources (the dashboard files and the installed swagger-ui-dist)', () => {
    const modules = webAssetModules()
    expect(modules.length).toBe(2)
    const stale = modules
      .filter((generated) => readFileSync(generated.path, 'utf8') !== generated.text)
      .map((generated) => relative(process.cwd(), generated.path))
    expect(stale, 'stale generated modules: run `npm run assets`').toEqual([])
  })
})
