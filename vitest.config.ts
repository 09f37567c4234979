import { defineConfig } from 'vitest/config'
import { localProcessDefaults } from './packages/local/src/local-defaults'

// Two projects: pure unit tests run with no engines; everything under test/integration,
// test/chaos and test/e2e shares one DynamoDB Local + fauxqs started by the global setup.
// The local runtime's process defaults (no SDK Node-version warning per thread), set here
// for the main process (global setup) and below for the test workers.
for (const [name, value] of Object.entries(localProcessDefaults)) process.env[name] ??= value

export default defineConfig({
  test: {
    // Request logs are for operators; tests keep warnings and errors only.
    env: {
      ...localProcessDefaults,
      POWERTOOLS_LOG_LEVEL: 'WARN',
      POWERTOOLS_METRICS_DISABLED: 'true',
      // The API-wide tests send bursts through one key; the limiter has its own test.
      MERIDIAN_RATE_LIMIT_PER_SECOND: '100000',
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/**/*.test.ts', 'test/unit/**/*.test.ts'],
          exclude: ['**/node_modules/**'],
          // The SST program the infra test bundles into .sst/platform runs on Node as is,
          // as under `sst deploy`: already one esbuild bundle, so not transformed again.
          server: { deps: { external: [/\/\.sst\/platform\//] } },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/{integration,chaos,e2e}/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/resource-env.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
})
