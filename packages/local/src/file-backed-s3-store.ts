// S3 objects that survive a restart of the local runtime, kill -9 included. fauxqs keeps
// objects in memory only; its S3 API calls one store object for every change. This is
// that store (fauxqs's own S3Store, subclassed) writing every created or deleted object
// through to one file per object before fauxqs answers, and loading them all at start.
//
// Why this rather than a separate file-backed S3 server: the engine the suite tests stays
// the one `npm start` runs (fauxqs's S3 protocol, errors and listing), SQS and S3 keep one
// endpoint, and fauxqs 2 (which persists natively) needs Node 22.5 (node:sqlite).
//
// Each object is one file named by the SHA-256 of its key (keys may be 1,024 bytes, longer
// than a file name may be), holding a JSON header (key, content type, metadata, ETag, last
// modified) and the body. A write goes to a temporary file renamed over the old one, so a
// crash leaves the old object or the new one, never half of either. Not fsynced: that
// survives a killed process, not a power cut. Multipart uploads in progress are not kept
// (a client restarts them); completed ones are.
import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

/** What fauxqs's S3 routes need of a store object (fauxqs 1.9's S3Store, in part). */
export interface S3StoreLike {
  createBucket(name: string): void
  putObject(
    bucket: string,
    key: string,
    body: Buffer,
    contentType?: string,
    metadata?: Record<string, string>,
  ): StoredObject
  deleteObject(bucket: string, key: string): void
  deleteBucket(name: string): void
  createMultipartUpload(
    bucket: string,
    key: string,
    contentType?: string,
    metadata?: Record<string, string>,
  ): string
  completeMultipartUpload(
    uploadId: string,
    parts: Array<{ partNumber: number; etag: string }>,
  ): StoredObject
}

interface StoredObject {
  key: string
  body: Buffer
  contentType: string
  etag: string
  lastModified: Date
  metadata: Record<string, string>
}

interface ObjectHeader {
  key: string
  contentType: string
  etag: string
  lastModifiedMs: number
  metadata: Record<string, string>
}

const temporarySuffix = '.tmp'

// fauxqs exports no store class; its S3Store is reached by file path. package.json pins
// fauxqs exactly, so this path can't move under us with an update.
function loadFauxqsS3Store(): new () => S3StoreLike {
  const require = createRequire(import.meta.url)
  for (const directory of require.resolve.paths('fauxqs') ?? []) {
    const file = join(directory, 'fauxqs', 'dist', 's3', 's3Store.js')
    if (existsSync(file)) return (require(file) as { S3Store: new () => S3StoreLike }).S3Store
  }
  throw new Error('fauxqs is not installed (no fauxqs/dist/s3/s3Store.js found)')
}

/** A fauxqs S3 store whose objects live in files under `directory`. */
export function fileBackedS3Store(directory: string): S3StoreLike {
  const FauxqsS3Store = loadFauxqsS3Store()

  class FileBackedS3Store extends FauxqsS3Store {
    // fauxqs keeps an upload's bucket privately; the completed object doesn't carry it.
    private readonly uploadBuckets = new Map<string, string>()

    constructor() {
      super()
      mkdirSync(directory, { recursive: true })
      for (const bucket of readdirSync(directory)) this.loadBucket(bucket)
    }

    override createBucket(name: string): void {
      super.createBucket(name)
      mkdirSync(join(directory, name), { recursive: true })
    }

    override deleteBucket(name: string): void {
      super.deleteBucket(name)
      rmSync(join(directory, name), { recursive: true, force: true })
    }

    override putObject(
      bucket: string,
      key: string,
      body: Buffer,
      contentType?: string,
      metadata?: Record<string, string>,
    ): StoredObject {
      const stored = super.putObject(bucket, key, body, contentType, metadata)
      writeObject(bucket, stored)
      return stored
    }

    override createMultipartUpload(
      bucket: string,
      key: string,
      contentType?: string,
      metadata?: Record<string, string>,
    ): string {
      const uploadId = super.createMultipartUpload(bucket, key, contentType, metadata)
      this.uploadBuckets.set(uploadId, bucket)
      return uploadId
    }

    override completeMultipartUpload(
      uploadId: string,
      parts: Array<{ partNumber: number; etag: string }>,
    ): StoredObject {
      const stored = super.completeMultipartUpload(uploadId, parts)
      const bucket = this.uploadBuckets.get(uploadId)
      this.uploadBuckets.delete(uploadId)
      if (bucket === undefined) throw new Error(`multipart upload ${uploadId} has no bucket`)
      writeObject(bucket, stored)
      return stored
    }

    override deleteObject(bucket: string, key: string): void {
      super.deleteObject(bucket, key)
      rmSync(objectPath(bucket, key), { force: true })
    }

    private loadBucket(bucket: string): void {
      super.createBucket(bucket)
      const bucketDirectory = join(directory, bucket)
      for (const name of readdirSync(bucketDirectory)) {
        const file = join(bucketDirectory, name)
        // A write cut short by a crash: the object it was replacing is still whole.
        if (name.endsWith(temporarySuffix)) {
          rmSync(file, { force: true })
          continue
        }
        const { header, body } = decodeObjectFile(readFileSync(file))
        const stored = super.putObject(
          bucket,
          header.key,
          body,
          header.contentType,
          header.metadata,
        )
        stored.etag = header.etag
        stored.lastModified = new Date(header.lastModifiedMs)
      }
    }
  }

  function objectPath(bucket: string, key: string): string {
    return join(directory, bucket, createHash('sha256').update(key).digest('hex'))
  }

  function writeObject(bucket: string, stored: StoredObject): void {
    const path = objectPath(bucket, stored.key)
    const header: ObjectHeader = {
      key: stored.key,
      contentType: stored.contentType,
      etag: stored.etag,
      lastModifiedMs: stored.lastModified.getTime(),
      metadata: stored.metadata,
    }
    writeFileSync(`${path}${temporarySuffix}`, encodeObjectFile(header, stored.body))
    renameSync(`${path}${temporarySuffix}`, path)
  }

  return new FileBackedS3Store()
}

/** A 4-byte header length, the JSON header, then the body. */
export function encodeObjectFile(header: ObjectHeader, body: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(header))
  const length = Buffer.alloc(4)
  length.writeUInt32BE(json.length)
  return Buffer.concat([length, json, body])
}

export function decodeObjectFile(file: Buffer): { header: ObjectHeader; body: Buffer } {
  const headerLength = file.readUInt32BE(0)
  const header = JSON.parse(file.subarray(4, 4 + headerLength).toString()) as ObjectHeader
  return { header, body: file.subarray(4 + headerLength) }
}
