// The blob store on the data bucket. Listings follow continuation tokens to the end (a
// listing that stops at 1,000 keys silently drops input).
import {
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import type { BlobStore } from './ports'
import { ObjectNotFound, SignedObjectReader } from './s3-signed-reader'

export class S3BlobStore implements BlobStore {
  // Reads (map input, intermediates) are many small GETs: see s3-signed-reader.ts.
  private readonly reader: SignedObjectReader

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {
    this.reader = new SignedObjectReader(client, bucket)
  }

  async put(key: string, body: string | Uint8Array, contentType?: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
    )
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await this.reader.get(key)
    } catch (error) {
      if (error instanceof ObjectNotFound) return undefined
      throw error
    }
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array()
    return this.reader.get(key, { start, end })
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
  return error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey'
}
