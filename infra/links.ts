// Turns the resource names a function declares (`links` in packages/aws/src/wiring.ts)
// into the components to link: linking is how SST grants IAM, so each function gets
// access to exactly what it declares. Also what every Meridian function shares.
import { adminApiKeySecret, coordinationTable, dataBucket } from '../packages/aws/src'
import { queues } from './queues'
import { adminApiKey } from './secrets'
import { bucket, coordination, storeTables } from './storage'

export const functionDefaults = {
  runtime: 'nodejs22.x',
  architecture: 'arm64',
  memory: '1024 MB',
  transform: { role: lambdaOnlyTrust },
} as const

/**
 * Lets only Lambda assume a deployed function's role. SST 3.19.3 chooses the trust policy
 * with `!dev` where `dev` is an Output (always truthy), so every role it creates also
 * trusts the account root (`arn:aws:iam::<account>:root`), the policy meant for `sst dev`
 * alone; any principal in the account allowed sts:AssumeRole could act as any function.
 * Under `sst dev` SST's own policy stays (the live bridge assumes the role).
 */
function lambdaOnlyTrust(args: aws.iam.RoleArgs): undefined {
  if (!$dev) {
    args.assumeRolePolicy = aws.iam.assumeRolePolicyForPrincipal({
      Service: 'lambda.amazonaws.com',
    })
  }
  // SST's Transform type: a function that edits args in place returns undefined.
  return undefined
}

export function linked(names: readonly string[]) {
  const components = new Map<string, unknown>([
    [coordinationTable.resource, coordination],
    [dataBucket.resource, bucket],
    [adminApiKeySecret.resource, adminApiKey],
    ...storeTables,
    ...queues,
  ])
  return names.map((name) => {
    const component = components.get(name)
    if (!component) throw new Error(`no component named ${name} to link`)
    return component
  })
}
