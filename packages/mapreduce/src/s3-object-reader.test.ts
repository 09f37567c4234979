import { S3Client } from '@aws-sdk/client-s3'
import { describe, expect, it } from 'vitest'
import { encodeKeyPath, s3Signer } from './s3-object-reader'

// The hash the S3 client itself is configured with, as the reader passes it.
const sha256 = new S3Client({ region: 'us-east-1' }).config.sha256

describe('s3Signer', () => {
  it('reproduces the GET Object example of the AWS SigV4 documentation', async () => {
    // "Signature Calculations for the Authorization Header: Transferring Payload in a
    // Single Chunk", example GET Object (Range bytes=0-9).
    const signer = s3Signer({
      region: 'us-east-1',
      credentials: {
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      },
      sha256,
    })
    const signed = await signer.sign(
      {
        method: 'GET',
        protocol: 'https:',
        hostname: 'examplebucket.s3.amazonaws.com',
        path: '/test.txt',
        query: {},
        headers: {
          host: 'examplebucket.s3.amazonaws.com',
          range: 'bytes=0-9',
          'x-amz-content-sha256':
            'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        },
      },
      { signingDate: new Date('2013-05-24T00:00:00Z') },
    )
    expect(signed.headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ' +
        'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ' +
        'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    )
  })

  it('signs an encoded key path as sent, without encoding it twice', async () => {
    const signer = s3Signer({
      region: 'us-east-1',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret', sessionToken: 'token' },
      sha256,
    })
    const path = `/bucket/${encodeKeyPath('a b/ü.txt')}`
    const signed = await signer.sign({
      method: 'GET',
      protocol: 'http:',
      hostname: 'localhost',
      path,
      query: {},
      headers: { host: 'localhost', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    })
    expect(signed.path).toBe('/bucket/a%20b/%C3%BC.txt')
    expect(signed.headers['x-amz-security-token']).toBe('token')
    expect(signed.headers.authorization).toContain(
      'SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,',
    )
  })
})

describe('encodeKeyPath', () => {
  it('encodes each segment per RFC 3986 and keeps the slashes', () => {
    expect(encodeKeyPath("tenants/a b/it's (1)*/ü+=&.txt")).toBe(
      'tenants/a%20b/it%27s%20%281%29%2A/%C3%BC%2B%3D%26.txt',
    )
  })
})
