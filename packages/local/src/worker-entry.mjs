// Entry of each invocation worker thread: teach this thread TypeScript (tsx), then load
// the invoker. Plain JS because a worker thread starts without the parent's loaders.
import { register } from 'tsx/esm/api'

register()
await import('./invoker.ts')
