// The local engines' own start and durability: a DynamoDB Local that can't start fails at
// once with Java's message (not after the start timeout), and fauxqs's S3 objects written
// through the file-backed store come back after a restart exactly as the last write left
// them (overwrites, deletes, multipart uploads, metadata), through the real AWS SDK.

import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { afterAll, describe, expect, it } from 'vitest'
import { startDynamoDbLocal } from '../../packages/local/src/dynamodb-local'
import { startFauxqs } from '../../packages/local/src/fauxqs'
import { freePort } from '../../packages/local/src/free-port'

describe('DynamoDB Local start', () => {
  it("fails as soon as Java exits, with Java's own message", async () => {
    const port = await freePort()
    const blocker = createServer().listen(port, '0.0.0.0')
    try {
      const failure = await startDynamoDbLocal({ port }).catch((error: Error) => error)
      expect(failure).toBeInstanceOf(Error)
      const message = (failure as Error).message
      expect(message).toContain('the java process exited')
      expect(message).toContain('Address already in use')
    } finally {
      blocker.close()
    }
  })
})

describe('fauxqs S3 with a data directory', () => {
  const directory = mkdtempSync(join(tmpdir(), 'meridian-s3-store-'))
  afterAll(() => rmSync(directory, { recursive: true, force: true }))

  const client = (endpoint: string) =>
    new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    })

  it('keeps every object across a restart as the last write left it', async () => {
    const bucket = 'durable'
    const partBody = Buffer.alloc(5 * 1024 * 1024, 'p')
    const first = await startFauxqs({ port: 0, region: 'us-east-1', s3Directory: directory })
    const before = client(first.endpoint)
    try {
      await before.send(new CreateBucketCommand({ Bucket: bucket }))
      const put = (Key: string, Body: string) =>
        before.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key,
            Body,
            ContentType: 'text/plain',
            Metadata: { origin: 'test' },
          }),
        )
      await put('kept/a', 'first')
      await put('kept/a', 'second')
      await put(`kept/${'long-key-'.repeat(100)}`, 'long')
      await put('gone/b', 'deleted soon')
      await before.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone/b' }))
      const { UploadId } = await before.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'kept/multipart' }),
      )
      const parts = []
      for (const [index, body] of [partBody, Buffer.from('tail')].entries()) {
        const { ETag } = await before.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: 'kept/multipart',
            UploadId,
            PartNumber: index + 1,
            Body: body,
          }),
        )
        parts.push({ ETag, PartNumber: index + 1 })
      }
      await before.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'kept/multipart',
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
      )
    } finally {
      before.destroy()
      await first.stop()
    }

    const second = await startFauxqs({ port: 0, region: 'us-east-1', s3Directory: directory })
    const after = client(second.endpoint)
    try {
      const listed = await after.send(new ListObjectsV2Command({ Bucket: bucket }))
      expect((listed.Contents ?? []).map((object) => object.Key).sort()).toEqual(
        ['kept/a', `kept/${'long-key-'.repeat(100)}`, 'kept/multipart'].sort(),
      )
      const a = await after.send(new GetObjectCommand({ Bucket: bucket, Key: 'kept/a' }))
      expect(await a.Body!.transformToString()).toBe('second')
      expect(a.ContentType).toBe('text/plain')
      expect(a.Metadata).toEqual({ origin: 'test' })
      const multipart = await after.send(
        new GetObjectCommand({ Bucket: bucket, Key: 'kept/multipart' }),
      )
      const bytes = Buffer.from(await multipart.Body!.transformToByteArray())
      expect(bytes.equals(Buffer.concat([partBody, Buffer.from('tail')]))).toBe(true)
      expect(multipart.ETag).toMatch(/-2"$/)
    } finally {
      after.destroy()
      await second.stop()
    }
  })
})
