// Environment defaults for every process and thread of the local runtime (handed to the
// invocation threads with the resource environment, and applied to the runtime's own
// process by process-defaults.ts):
// - The SDK's Node.js version warning would repeat once per invocation thread; the README
//   and package.json's `engines` say which Node versions work (22 recommended).
export const localProcessDefaults = {
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
} as const
