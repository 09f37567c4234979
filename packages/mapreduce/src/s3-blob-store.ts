// The blob store on the data bucket. Listings follow continuation tokens to the end (a
// listing that stops at 1,000 keys silently drops input).
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import type { BlobStore } from './ports'
import { S3ObjectReader, S3ReadError } from './s3-object-reader'

export class S3BlobStore implements BlobStore {
  // Reads are many small GETs (map inputs, intermediates): see s3-object-reader.ts.
  private readonly reader: S3ObjectReader

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {
    this.reader = new S3ObjectReader(client, bucket)
  }

  async put(
    key: string,
    body: string | Uint8Array,
    contentType?: string,
    metadata?: Record<string, string>,
  ): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        Metadata: metadata,
      }),
    )
  }

  async head(key: string): Promise<{ eTag: string; metadata: Record<string, string> } | undefined> {
    try {
      const response = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: key }),
      )
      return { eTag: (response.ETag ?? '').replace(/"/g, ''), metadata: response.Metadata ?? {} }
    } catch (error) {
      if (isMissing(error)) return undefined
      throw error
    }
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.reader.get(key)
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array()
    const bytes = await this.reader.get(key, { start, end })
    if (!bytes) throw new S3ReadError(404, key, 'the object does not exist')
    return bytes
  }

  async *list(prefix: string): AsyncIterable<{ key: string; size: number }> {
    let token: string | undefined
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      )
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) yield { key: object.Key, size: object.Size ?? 0 }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
  }

  async stream(key: string): Promise<ReadableStream<Uint8Array> | undefined> {
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key }),
      )
      return response.Body?.transformToWebStream()
    } catch (error) {
      if (isMissing(error)) return undefined
      throw error
    }
  }
}

function isMissing(error: unknown): boolean {
  // HEAD has no body, so a missing object is a bare 404 (`NotFound`), not `NoSuchKey`.
  const name = (error as { name?: string }).name
  return error instanceof NoSuchKey || name === 'NoSuchKey' || name === 'NotFound'
}
