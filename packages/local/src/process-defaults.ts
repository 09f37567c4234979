// Applies the local runtime's environment defaults (local-defaults.ts) to this process.
// Import it first, before anything that loads the AWS SDK.
import { localProcessDefaults } from './local-defaults'

for (const [name, value] of Object.entries(localProcessDefaults)) process.env[name] ??= value
