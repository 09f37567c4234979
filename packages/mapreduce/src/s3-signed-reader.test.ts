import { describe, expect, it } from 'vitest'
import { encodeKeyPath, signRequest } from './s3-signed-reader'

describe('signRequest', () => {
  it('reproduces the GET Object example of the AWS SigV4 documentation', () => {
    // "Signature Calculations for the Authorization Header: Transferring Payload in a
    // Single Chunk", example GET Object (Range bytes=0-9).
    const headers = signRequest({
      method: 'GET',
      host: 'examplebucket.s3.amazonaws.com',
      path: '/test.txt',
      headers: { Range: 'bytes=0-9' },
      payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      region: 'us-east-1',
      service: 's3',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      amzDate: '20130524T000000Z',
    })
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ' +
        'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ' +
        'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    )
  })

  it('signs the session token when the credentials have one', () => {
    const headers = signRequest({
      method: 'GET',
      host: 'localhost:4566',
      path: '/bucket/key',
      headers: {},
      payloadHash: 'UNSIGNED-PAYLOAD',
      region: 'us-east-1',
      service: 's3',
      accessKeyId: 'id',
      secretAccessKey: 'secret',
      sessionToken: 'token',
      amzDate: '20260101T000000Z',
    })
    expect(headers['x-amz-security-token']).toBe('token')
    expect(headers.authorization).toContain(
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
