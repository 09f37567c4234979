// The blob store's reads (signed GETs through the S3 client's own handler, see
// s3-object-reader.ts) against fauxqs' S3: whole objects, ranges, keys that need encoding,
// a missing key (an answer: undefined) and a missing bucket (a failure).
import { dataBucket, s3Client } from '@meridian/aws'
import { linkedName } from '@meridian/aws/linked'
import { S3BlobStore } from '@meridian/mapreduce'
import { describe, expect, it } from 'vitest'

const store = new S3BlobStore(s3Client(), linkedName(dataBucket.resource))
const prefix = `blob-store-test/${Date.now().toString(36)}`

describe('S3BlobStore reads', () => {
  it('reads whole objects and byte ranges of keys that need encoding', async () => {
    const key = `${prefix}/a b/it's (1)*/ü+=&.txt`
    await store.put(key, 'hello, range reads')
    expect(new TextDecoder().decode(await store.get(key))).toBe('hello, range reads')
    expect(new TextDecoder().decode(await store.getRange(key, 7, 12))).toBe('range')
  })

  it('answers undefined for a missing key and fails for a missing bucket', async () => {
    expect(await store.get(`${prefix}/never-written`)).toBeUndefined()
    const missingBucket = new S3BlobStore(s3Client(), `missing-${Date.now().toString(36)}`)
    await expect(missingBucket.get('any')).rejects.toThrow(/NoSuchBucket|404/)
  })
})
