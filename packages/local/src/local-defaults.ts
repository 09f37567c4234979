// Environment defaults for every process and thread of the local runtime (handed to the
// invocation threads with the resource environment, and applied to the runtime's own
// process by process-defaults.ts):
// - The SDK's Node.js version warning would repeat once per invocation thread; the README
//   and package.json's `engines` say which Node versions work (22 recommended).
// - DynamoDB Local shares the machine's cores with everything else, so a call can take far
//   longer than on DynamoDB: a loaded laptop must not look like a failed region. The store
//   timeout is 5 s here (1 s on AWS); a test that blackholes a region sets its own.
export const localProcessDefaults = {
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  MERIDIAN_STORE_TIMEOUT_MS: '5000',
} as const
