// GETs for the blob store's reads: many small objects (map input files, intermediate
// partitions). Through `client.send`, each GET runs the SDK's whole middleware stack
// (endpoint rules, schema serde, checksum validation, retry bookkeeping), which costs more
// CPU than counting a small object's words (bench/mapreduce.ts: the 5,500-object job used
// ~28 s of CPU through `send`, ~18 s this way). This reader uses the same client's own parts
// and skips only the stack: its endpoint rules (evaluated once per bucket), credentials
// provider, SigV4 signer (@smithy/signature-v4) and HTTP handler (its keep-alive agent and
// timeouts). Writes, listings and streamed reads stay on `client.send`. What the stack would
// add and this doesn't: redirects to another region (our buckets are in the client's region),
// S3 Express and SigV4a signing (not used for the data bucket), clock-skew correction.
import type { S3Client } from '@aws-sdk/client-s3'
import { SignatureV4, type SignatureV4CryptoInit, type SignatureV4Init } from '@smithy/signature-v4'

/** Attempts for a GET that failed with a 5xx, a 429 or a network error. */
const attemptsMax = 3
const backoffBaseMs = 25

/** The signer S3 wants: the path signed as sent (no second encoding), service `s3`. */
export function s3Signer(
  options: Pick<SignatureV4Init, 'region' | 'credentials'> & SignatureV4CryptoInit,
): SignatureV4 {
  return new SignatureV4({ ...options, service: 's3', uriEscapePath: false })
}

/** An object key as a path: each segment URI-encoded (RFC 3986), slashes kept, as S3 signs it. */
export function encodeKeyPath(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join('/')
}

export class S3ReadError extends Error {
  override name = 'S3ReadError'
  constructor(
    readonly status: number,
    readonly key: string,
    body: string,
  ) {
    super(`GET ${key} failed with HTTP ${status}: ${body}`)
  }
}

interface BucketEndpoint {
  protocol: string
  hostname: string
  port?: number
  basePath: string
  signer: SignatureV4
}

export class S3ObjectReader {
  private endpoint?: Promise<BucketEndpoint>

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  /** The object's bytes, or bytes [start, end) of it; undefined when it doesn't exist. */
  async get(key: string, range?: { start: number; end: number }): Promise<Uint8Array | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.getOnce(key, range)
      } catch (error) {
        if (!isTransient(error) || attempt >= attemptsMax) throw error
        await new Promise((resolve) => setTimeout(resolve, backoffBaseMs * 2 ** attempt))
      }
    }
  }

  private async getOnce(
    key: string,
    range: { start: number; end: number } | undefined,
  ): Promise<Uint8Array | undefined> {
    // A failed resolution is not kept: the next GET tries again.
    this.endpoint ??= this.resolveEndpoint().catch((error: unknown) => {
      this.endpoint = undefined
      throw error
    })
    const endpoint = await this.endpoint
    const path = `${endpoint.basePath}/${encodeKeyPath(key)}`
    const host = endpoint.port ? `${endpoint.hostname}:${endpoint.port}` : endpoint.hostname
    const request = await endpoint.signer.sign({
      method: 'GET',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port && { port: endpoint.port }),
      path,
      query: {},
      headers: {
        host,
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        ...(range && { range: `bytes=${range.start}-${range.end - 1}` }),
      },
    })
    const { response } = await this.client.config.requestHandler.handle(request as never, {})
    const body = await readAll(response.body as AsyncIterable<Uint8Array> | undefined)
    if (response.statusCode === 200 || response.statusCode === 206) return body
    // A missing key is an answer; a missing bucket (also a 404) is a failure.
    if (response.statusCode === 404 && !errorCodeOf(body).startsWith('NoSuchBucket')) {
      return undefined
    }
    throw new S3ReadError(
      response.statusCode,
      key,
      Buffer.from(body.subarray(0, 300)).toString('utf8'),
    )
  }

  private async resolveEndpoint(): Promise<BucketEndpoint> {
    const { config } = this.client
    const region = await config.region()
    const configured = config.endpoint ? await config.endpoint() : undefined
    const serviceConfigured = configured ? undefined : await config.serviceConfiguredEndpoint?.()
    const endpoint = configured
      ? `${configured.protocol}//${configured.hostname}${configured.port ? `:${configured.port}` : ''}${configured.path ?? ''}`
      : serviceConfigured
    const resolved = config.endpointProvider(
      {
        Bucket: this.bucket,
        Region: region,
        ForcePathStyle: config.forcePathStyle ?? false,
        UseFIPS: await config.useFipsEndpoint(),
        UseDualStack: await config.useDualstackEndpoint(),
        Accelerate: (await resolveSetting(config.useAccelerateEndpoint)) ?? false,
        ...(endpoint && { Endpoint: endpoint }),
      },
      {},
    )
    const url = new URL(resolved.url.href)
    // The endpoint rules may name another signing region (access points, for one).
    const authScheme = (
      resolved.properties?.authSchemes as { signingRegion?: string }[] | undefined
    )?.[0]
    const signingRegion = authScheme?.signingRegion ?? region
    return {
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port && { port: Number(url.port) }),
      basePath: url.pathname.replace(/\/$/, ''),
      signer: s3Signer({
        region: signingRegion,
        credentials: config.credentials,
        sha256: config.sha256,
      }),
    }
  }
}

/** The `<Code>` of an S3 XML error body, or '' when there is none. */
function errorCodeOf(body: Uint8Array): string {
  return /<Code>([^<]*)<\/Code>/.exec(Buffer.from(body).toString('utf8'))?.[1] ?? ''
}

async function readAll(body: AsyncIterable<Uint8Array> | undefined): Promise<Uint8Array> {
  if (!body) return new Uint8Array()
  const chunks: Uint8Array[] = []
  for await (const chunk of body) chunks.push(chunk)
  return Buffer.concat(chunks)
}

async function resolveSetting<T>(
  setting: T | undefined | (() => Promise<T | undefined>),
): Promise<T | undefined> {
  return typeof setting === 'function' ? (setting as () => Promise<T | undefined>)() : setting
}

function isTransient(error: unknown): boolean {
  if (error instanceof S3ReadError) return error.status >= 500 || error.status === 429
  // Network errors (reset, refused, timed out) carry a code or a timeout name, no status.
  const candidate = error as { code?: unknown; name?: unknown }
  return typeof candidate.code === 'string' || candidate.name === 'TimeoutError'
}
