// Plain signed HTTP GETs for the blob store's reads. A map task over many small input
// objects makes one GET per object; through the SDK's middleware stack (endpoint rules,
// schema serde, checksum validation, retries) each costs about a millisecond of CPU, more
// than counting the object's words. This reader resolves the bucket's endpoint once with
// the SDK's own endpoint rules and configuration, then signs each GET itself (SigV4,
// unsigned payload) and sends it on a keep-alive connection: a fraction of the cost.
// Writes, listings and streams stay on the SDK.
import { createHash, createHmac } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import type { S3Client } from '@aws-sdk/client-s3'

const unsignedPayload = 'UNSIGNED-PAYLOAD'
const attemptsMax = 3
const backoffBaseMs = 25
const socketsMax = 64

export interface SigningInput {
  method: string
  /** Host header value (with the port when it isn't the scheme's default). */
  host: string
  /** Canonical (already encoded) path. */
  path: string
  headers: Record<string, string>
  payloadHash: string
  region: string
  service: string
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  /** yyyymmddThhmmssZ */
  amzDate: string
}

/** The request's headers with the SigV4 Authorization header (no query string). */
export function signRequest(input: SigningInput): Record<string, string> {
  const headers: Record<string, string> = {
    ...Object.fromEntries(
      Object.entries(input.headers).map(([name, value]) => [name.toLowerCase(), value.trim()]),
    ),
    host: input.host,
    'x-amz-content-sha256': input.payloadHash,
    'x-amz-date': input.amzDate,
    ...(input.sessionToken && { 'x-amz-security-token': input.sessionToken }),
  }
  const names = Object.keys(headers).sort()
  const signedHeaders = names.join(';')
  const canonicalRequest = [
    input.method,
    input.path,
    '',
    ...names.map((name) => `${name}:${headers[name]}`),
    '',
    signedHeaders,
    input.payloadHash,
  ].join('\n')
  const date = input.amzDate.slice(0, 8)
  const scope = `${date}/${input.region}/${input.service}/aws4_request`
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    input.amzDate,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n')
  const key = signingKey(input.secretAccessKey, date, input.region, input.service)
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex')
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${input.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`
  return headers
}

let cachedKey: { id: string; key: Buffer } | undefined

function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${secret}\n${date}\n${region}\n${service}`
  if (cachedKey?.id === id) return cachedKey.key
  let key = createHmac('sha256', `AWS4${secret}`).update(date).digest()
  for (const part of [region, service, 'aws4_request'])
    key = createHmac('sha256', key).update(part).digest()
  cachedKey = { id, key }
  return key
}

/** An object key as a path: each segment URI-encoded (RFC 3986), slashes kept. */
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

export class ObjectNotFound extends Error {}

interface BucketEndpoint {
  url: URL
  region: string
  agent: http.Agent
}

export class SignedObjectReader {
  private endpoint?: Promise<BucketEndpoint>

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  /** The object's bytes, or its bytes [start, end) with a range; ObjectNotFound when missing. */
  async get(key: string, range?: { start: number; end: number }): Promise<Uint8Array> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.getOnce(key, range)
      } catch (error) {
        if (error instanceof ObjectNotFound || !isTransient(error) || attempt >= attemptsMax)
          throw error
        await new Promise((resolve) => setTimeout(resolve, backoffBaseMs * 2 ** attempt))
      }
    }
  }

  private async getOnce(
    key: string,
    range: { start: number; end: number } | undefined,
  ): Promise<Uint8Array> {
    this.endpoint ??= this.resolveEndpoint()
    const endpoint = await this.endpoint
    const credentials = await this.client.config.credentials()
    const basePath = endpoint.url.pathname.replace(/\/$/, '')
    const path = `${basePath}/${encodeKeyPath(key)}`
    const headers = signRequest({
      method: 'GET',
      host: endpoint.url.host,
      path,
      headers: range ? { range: `bytes=${range.start}-${range.end - 1}` } : {},
      payloadHash: unsignedPayload,
      region: endpoint.region,
      service: 's3',
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken && { sessionToken: credentials.sessionToken }),
      amzDate: new Date().toISOString().replace(/[-:]|\.\d{3}/g, ''),
    })
    const transport = endpoint.url.protocol === 'https:' ? https : http
    return new Promise<Uint8Array>((resolve, reject) => {
      const request = transport.request(
        {
          method: 'GET',
          protocol: endpoint.url.protocol,
          hostname: endpoint.url.hostname,
          port: endpoint.url.port || undefined,
          path,
          headers,
          agent: endpoint.agent,
        },
        (response) => {
          const chunks: Buffer[] = []
          response.on('data', (chunk: Buffer) => chunks.push(chunk))
          response.on('error', reject)
          response.on('end', () => {
            const body = Buffer.concat(chunks)
            const status = response.statusCode ?? 0
            if (status === 200 || status === 206) return resolve(body)
            if (status === 404) return reject(new ObjectNotFound(`${key} does not exist`))
            reject(new S3ReadError(status, key, body.subarray(0, 300).toString()))
          })
        },
      )
      request.on('error', reject)
      request.end()
    })
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
    const Agent = url.protocol === 'https:' ? https.Agent : http.Agent
    return { url, region, agent: new Agent({ keepAlive: true, maxSockets: socketsMax }) }
  }
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

async function resolveSetting<T>(
  setting: T | undefined | (() => Promise<T | undefined>),
): Promise<T | undefined> {
  return typeof setting === 'function' ? (setting as () => Promise<T | undefined>)() : setting
}

function isTransient(error: unknown): boolean {
  if (error instanceof S3ReadError) return error.status >= 500 || error.status === 429
  // Network errors (reset, refused while an engine restarts) have a code and no status.
  return typeof (error as { code?: unknown }).code === 'string'
}
