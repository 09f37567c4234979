// Runs in each test worker before any test module loads, so `Resource` from the sst SDK
// (which reads SST_RESOURCE_* once, at import) sees the engines the global setup started.
import { inject } from 'vitest'

Object.assign(process.env, inject('resourceEnvironment'))
