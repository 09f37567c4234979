// The edge: a CloudFront distribution in front of the APIs, with a Lambda@Edge function
// (functions/edge.ts) on its origin-request trigger that sends `/kv/:key` to the function
// URL of the key's owner region and everything else to the home API, the origin.
//
// Lambda@Edge rules this file meets (AWS "Restrictions on Lambda@Edge"): the function is in
// us-east-1, CloudFront runs a published numbered version (qualifiedArn), its role trusts
// edgelambda.amazonaws.com as well as lambda.amazonaws.com, and it has no environment
// variables. sst.aws.Function always sets some (SST_KEY, SST_RESOURCE_App, ...), so the
// function is a plain aws.lambda.Function whose code esbuild builds here, the way SST's own
// ssr-site builds its Lambda@Edge signer. Configuration goes on the origin as custom headers,
// which the trigger reads from `request.origin.custom.customHeaders`: the home region and
// every region's function URL, outputs of infra/api.ts.
//
// The distribution caches nothing (managed policy CachingDisabled), forwards every viewer
// header but Host (managed AllViewerExceptHostHeader: a function URL answers only to its own
// host), and allows every method.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildSync } from 'esbuild'
import { edgeFunction, stageConfig } from '../packages/aws/src'
import { edgeConfigHeaders, formatRegionUrls } from '../packages/edge/src/edge-config'
import { api, regionalApis } from './api'
import { awsRegion } from './storage'

/** AWS managed policies (the same IDs in every account). */
export const cachingDisabledPolicyId = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad'
export const allViewerExceptHostHeaderPolicyId = 'b689b0a8-53d0-40ab-baf2-68738e2966ac'

/**
 * The trigger's code: one CommonJS file with everything it imports (packages/edge, the pure
 * ring module), minified. Lambda@Edge runs Node.js, but the code needs nothing from Node: no
 * built-in module, no AWS SDK (test/unit/infra checks the built file). Written as
 * `index.js` in a directory of .sst/artifacts (where SST puts its own builds), which is
 * the function's archive.
 */
export function buildEdgeBundle(root: string): string {
  const directory = join(root, edgeFunction.artifactDirectory)
  rmSync(directory, { recursive: true, force: true })
  mkdirSync(directory, { recursive: true })
  writeFileSync(join(directory, 'index.js'), edgeBundle(root))
  return directory
}

function edgeBundle(root: string): string {
  const result = buildSync({
    entryPoints: [join(root, edgeFunction.entry)],
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  })
  const output = result.outputFiles[0]
  if (!output) throw new Error(`esbuild built nothing for ${edgeFunction.entry}`)
  return output.text
}

// Lambda@Edge functions live in us-east-1 whatever the app's own region is.
const edgeProvider = new aws.Provider(`${edgeFunction.name}Provider`, {
  region: awsRegion(edgeFunction.region),
})

const edgeRole = new aws.iam.Role(`${edgeFunction.name}Role`, {
  assumeRolePolicy: JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: ['lambda.amazonaws.com', 'edgelambda.amazonaws.com'] },
      },
    ],
  }),
  // Logs only: the trigger reads no AWS resource.
  managedPolicyArns: ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
})

export const edgeTrigger = new aws.lambda.Function(
  `${edgeFunction.name}Function`,
  {
    description: 'Meridian edge: routes /kv/:key to its owner region (CloudFront origin-request)',
    runtime: 'nodejs22.x',
    // Lambda@Edge runs x86_64 functions only.
    architectures: ['x86_64'],
    handler: 'index.handler',
    role: edgeRole.arn,
    code: new $util.asset.FileArchive(buildEdgeBundle($cli.paths.root)),
    publish: true,
    timeout: edgeFunction.timeoutSeconds,
    memorySize: edgeFunction.memoryMb,
  },
  { provider: edgeProvider },
)

/** Every region's API base URL, home first, as the trigger's config header value. */
const regionUrls = $resolve([
  api.url,
  ...[...regionalApis].map(([region, fn]) => fn.url.apply((url) => `${region}=${url}`)),
]).apply(([homeUrl, ...others]) =>
  [formatRegionUrls({ [stageConfig.homeRegion]: homeUrl as string }), ...others].join(','),
)

const homeOrigin = 'home-api'

export const edge = new aws.cloudfront.Distribution(`${edgeFunction.name}Distribution`, {
  enabled: true,
  comment: `meridian ${$app.stage}: the edge tier`,
  httpVersion: 'http2and3',
  origins: [
    {
      originId: homeOrigin,
      domainName: api.url.apply((url) => new URL(url).host),
      customOriginConfig: {
        httpPort: 80,
        httpsPort: 443,
        originProtocolPolicy: 'https-only',
        originSslProtocols: ['TLSv1.2'],
        originReadTimeout: 30,
      },
      customHeaders: [
        { name: edgeConfigHeaders.homeRegion, value: stageConfig.homeRegion },
        { name: edgeConfigHeaders.regionUrls, value: regionUrls },
      ],
    },
  ],
  defaultCacheBehavior: {
    targetOriginId: homeOrigin,
    viewerProtocolPolicy: 'https-only',
    allowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'POST', 'PATCH', 'DELETE'],
    cachedMethods: ['GET', 'HEAD'],
    cachePolicyId: cachingDisabledPolicyId,
    originRequestPolicyId: allViewerExceptHostHeaderPolicyId,
    compress: false,
    lambdaFunctionAssociations: [
      { eventType: 'origin-request', lambdaArn: edgeTrigger.qualifiedArn, includeBody: false },
    ],
  },
  restrictions: { geoRestriction: { restrictionType: 'none' } },
  viewerCertificate: { cloudfrontDefaultCertificate: true },
})

/** The edge's base URL: the distribution's domain. */
export const edgeUrl = $interpolate`https://${edge.domainName}`
