// Which scope each route demands, in one table: the auth matrix test walks it. A path
// outside the table has no scope, and the middleware refuses it (fails closed), so a new
// route someone forgets to list here is unreachable rather than open to every key.
import type { Scope } from './api-keys'

const readMethods = new Set(['GET', 'HEAD'])

export function requiredScope(method: string, path: string): Scope | undefined {
  const section = path.split('/')[1] ?? ''
  switch (section) {
    case 'kv':
      return readMethods.has(method) ? 'kv:read' : 'kv:write'
    case 'ring':
      return readMethods.has(method) ? 'kv:read' : 'admin'
    case 'regions':
      return 'kv:read'
    case 'locks':
      return 'lock'
    case 'txn':
      return 'txn'
    case 'jobs':
    case 'uploads':
      return 'jobs'
    case 'admin':
      return 'admin'
    default:
      return undefined
  }
}
