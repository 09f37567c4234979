// Environment defaults for every process and thread of the local runtime (handed to the
// invocation threads with the resource environment, and applied to the runtime's own
// process by process-defaults.ts):
// - Powertools' tracer is off outside Lambda, but loading it loads the X-Ray SDK, which
//   in its default automatic mode installs async hooks (cls-hooked) that run on every
//   promise and socket of the thread. Manual mode skips them; nothing traces locally.
// - The SDK's Node.js version warning says nothing useful locally.
export const localProcessDefaults = {
  AWS_XRAY_MANUAL_MODE: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
} as const
