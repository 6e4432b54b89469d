import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  awsUriEncode,
  canonicalPath,
  EMPTY_SHA256,
  expectedSignature,
  parseAuthorizationHeader,
  parsePresignedQuery,
  signingKey,
} from './sigv4.js';

// AWS's published examples (S3 API reference, "Signature Calculations for the Authorization
// Header" and "Query String Authentication"): the example key pair, 2013-05-24, us-east-1.
const ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const DATE = '20130524T000000Z';
const SCOPE = '20130524/us-east-1/s3/aws4_request';
const HOST = 'examplebucket.s3.amazonaws.com';
const scopeParts = { scopeDate: '20130524', region: 'us-east-1', service: 's3' };

async function sign(input: Omit<Parameters<typeof expectedSignature>[0], 'amzDate' | 'scope'>) {
  return expectedSignature(
    { ...input, amzDate: DATE, scope: SCOPE },
    await signingKey(ID, SECRET, scopeParts),
  );
}

describe('SigV4 against the AWS examples', () => {
  it('GET Object with a Range header', async () => {
    const sig = await sign({
      method: 'GET',
      path: '/test.txt',
      query: {},
      headers: {
        host: HOST,
        range: 'bytes=0-9',
        'x-amz-content-sha256': EMPTY_SHA256,
        'x-amz-date': DATE,
      },
      payloadHash: EMPTY_SHA256,
    });
    expect(sig).toBe('f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  });

  it('PUT Object with a signed payload, a Date header and an encoded key', async () => {
    const payload = createHash('sha256').update('Welcome to Amazon S3.').digest('hex');
    const sig = await sign({
      method: 'PUT',
      path: canonicalPath('/test$file.text'),
      query: {},
      headers: {
        date: 'Fri, 24 May 2013 00:00:00 GMT',
        host: HOST,
        'x-amz-date': DATE,
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': payload,
      },
      payloadHash: payload,
    });
    expect(sig).toBe('98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd');
  });

  it('GET Bucket lifecycle and list objects (query parameters sorted)', async () => {
    const headers = { host: HOST, 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': DATE };
    expect(
      await sign({
        method: 'GET',
        path: '/',
        query: { lifecycle: '' },
        headers,
        payloadHash: EMPTY_SHA256,
      }),
    ).toBe('fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543');
    expect(
      await sign({
        method: 'GET',
        path: '/',
        query: { prefix: 'J', 'max-keys': '2' },
        headers,
        payloadHash: EMPTY_SHA256,
      }),
    ).toBe('34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7');
  });

  it('a presigned GET (query string authentication)', async () => {
    const sig = await sign({
      method: 'GET',
      path: '/test.txt',
      query: {
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Credential': `${ID}/${SCOPE}`,
        'X-Amz-Date': DATE,
        'X-Amz-Expires': '86400',
        'X-Amz-SignedHeaders': 'host',
      },
      headers: { host: HOST },
      payloadHash: 'UNSIGNED-PAYLOAD',
    });
    expect(sig).toBe('aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404');
  });

  it('the seed of the streaming (chunked) PUT example', async () => {
    const sig = await sign({
      method: 'PUT',
      path: '/examplebucket/chunkObject.txt',
      query: {},
      headers: {
        'content-encoding': 'aws-chunked',
        'content-length': '66824',
        host: 's3.amazonaws.com',
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'x-amz-date': DATE,
        'x-amz-decoded-content-length': '66560',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      },
      payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    });
    expect(sig).toBe('4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9');
  });

  it('changes with any part of the request', async () => {
    const base = {
      method: 'GET',
      path: '/b/k',
      query: {},
      headers: { host: 'h', 'x-amz-date': DATE },
      payloadHash: EMPTY_SHA256,
    };
    const ref = await sign(base);
    expect(await sign({ ...base, method: 'HEAD' })).not.toBe(ref);
    expect(await sign({ ...base, path: '/b/k2' })).not.toBe(ref);
    expect(await sign({ ...base, query: { a: '' } })).not.toBe(ref);
    expect(await sign({ ...base, headers: { host: 'h2', 'x-amz-date': DATE } })).not.toBe(ref);
    expect(await sign({ ...base, payloadHash: 'UNSIGNED-PAYLOAD' })).not.toBe(ref);
  });
});

describe('parsing', () => {
  it('reads the Authorization header fields', () => {
    const a = parseAuthorizationHeader(
      `AWS4-HMAC-SHA256 Credential=${ID}/${SCOPE}, SignedHeaders=host;x-amz-date,Signature=${'a'.repeat(64)}`,
      DATE,
    );
    expect(a).toMatchObject({
      accessKeyId: ID,
      scopeDate: '20130524',
      region: 'us-east-1',
      service: 's3',
      signedHeaders: ['host', 'x-amz-date'],
      amzDate: DATE,
    });
  });

  it('refuses malformed or other schemes with the S3 codes', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as { s3Code: string }).s3Code;
      }
      return 'none';
    };
    expect(code(() => parseAuthorizationHeader('AWS AKIA:abc', DATE))).toBe('InvalidRequest');
    expect(code(() => parseAuthorizationHeader('AWS4-HMAC-SHA256 Credential=x', DATE))).toBe(
      'AuthorizationHeaderMalformed',
    );
    expect(
      code(() =>
        parseAuthorizationHeader(
          `AWS4-HMAC-SHA256 Credential=${ID}/${SCOPE},SignedHeaders=host,Signature=${'a'.repeat(64)}`,
          undefined,
        ),
      ),
    ).toBe('AccessDenied');
    const q = new URLSearchParams({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': `${ID}/${SCOPE}`,
      'X-Amz-Date': DATE,
      'X-Amz-Expires': '604801',
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Signature': 'a'.repeat(64),
    });
    expect(code(() => parsePresignedQuery(q))).toBe('AuthorizationQueryParametersError');
    q.set('X-Amz-Expires', '60');
    expect(parsePresignedQuery(q).expires).toBe(60);
  });

  it('encodes URIs as SigV4 does', () => {
    expect(awsUriEncode("a b+c!*'()~._-é")).toBe('a%20b%2Bc%21%2A%27%28%29~._-%C3%A9');
    expect(canonicalPath('/bucket/dir/a b')).toBe('/bucket/dir/a%20b');
  });
});
