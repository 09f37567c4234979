#!/usr/bin/env node
// The `meridian` command. Workspaces export TypeScript source with no build step (see
// STYLE.md), so this entry registers tsx's loader and runs the CLI's source.
import { register } from 'tsx/esm/api'

register()
await import('../src/main.ts')
