// The S3 API request by request, part 1: listings (V1/V2, delimiters, paging, URL encoding),
// ranges, conditions, metadata, copy, DeleteObjects, and NotImplemented for what is not built.

import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { md5, pattern } from './helpers.js';
import { protocolGateway, tags } from './protocol-fixture.js';
import { errorCode } from './signer.js';

describe('S3 protocol: listing and objects', () => {
  const p = protocolGateway();
  const { s3, xml } = p;

  describe('listing', () => {
    it('V2 with prefix and delimiter returns keys and common prefixes', async () => {
      const body = await xml({ path: '/lst', query: { 'list-type': '2', delimiter: '/' } });
      expect(tags(body, 'Key')).toEqual(['a.txt', 'e f+g.txt']);
      expect(tags(body, 'Prefix').slice(1)).toEqual(['dir/', 'z/']);
      expect(tags(body, 'KeyCount')).toEqual(['4']);
      const sub = await xml({
        path: '/lst',
        query: { 'list-type': '2', prefix: 'dir/', delimiter: '/' },
      });
      expect(tags(sub, 'Key')).toEqual(['dir/b.txt', 'dir/c.txt']);
      expect(tags(sub, 'Prefix')).toEqual(['dir/', 'dir/sub/']);
    });

    it('V2 pages with max-keys and continuation tokens, and honours start-after', async () => {
      const seen: string[] = [];
      let token: string | undefined;
      for (let i = 0; i < 10; i++) {
        const body = await xml({
          path: '/lst',
          query: {
            'list-type': '2',
            'max-keys': '2',
            ...(token ? { 'continuation-token': token } : {}),
          },
        });
        seen.push(...tags(body, 'Key'));
        token = tags(body, 'NextContinuationToken')[0];
        expect(tags(body, 'IsTruncated')[0]).toBe(token ? 'true' : 'false');
        if (!token) break;
      }
      expect(seen).toEqual([
        'a.txt',
        'dir/b.txt',
        'dir/c.txt',
        'dir/sub/d.txt',
        'e f+g.txt',
        'z/ü.txt',
      ]);
      const after = await xml({
        path: '/lst',
        query: { 'list-type': '2', 'start-after': 'dir/c.txt' },
      });
      expect(tags(after, 'Key')).toEqual(['dir/sub/d.txt', 'e f+g.txt', 'z/ü.txt']);
      const none = await xml({ path: '/lst', query: { 'list-type': '2', 'max-keys': '0' } });
      expect(tags(none, 'Key')).toEqual([]);
      const bad = await s3({
        path: '/lst',
        query: { 'list-type': '2', 'continuation-token': '!!' },
      });
      expect(errorCode(bad)).toBe('InvalidArgument');
    });

    it('V1 pages with markers, and encoding-type=url encodes keys', async () => {
      const page1 = await xml({ path: '/lst', query: { 'max-keys': '3', delimiter: '/' } });
      expect([...tags(page1, 'Key'), ...tags(page1, 'Prefix').slice(1)]).toEqual([
        'a.txt',
        'e f+g.txt',
        'dir/',
      ]);
      const marker = tags(page1, 'NextMarker')[0]!;
      expect(marker).toBe('e f+g.txt');
      const page2 = await xml({ path: '/lst', query: { 'max-keys': '3', delimiter: '/', marker } });
      expect(tags(page2, 'Prefix').slice(1)).toEqual(['z/']);
      expect(tags(page2, 'IsTruncated')).toEqual(['false']);
      const enc = await xml({
        path: '/lst',
        query: { 'list-type': '2', 'encoding-type': 'url', prefix: 'e' },
      });
      expect(tags(enc, 'Key')).toEqual(['e%20f%2Bg.txt']);
      const uni = await xml({
        path: '/lst',
        query: { 'list-type': '2', 'encoding-type': 'url', prefix: 'z/' },
      });
      expect(tags(uni, 'Key')).toEqual(['z/%C3%BC.txt']);
    });

    it('listing shows ETag, size and date, and a missing bucket is NoSuchBucket', async () => {
      const body = await xml({ path: '/lst', query: { 'list-type': '2', prefix: 'a.txt' } });
      expect(tags(body, 'ETag')).toEqual([`&quot;${md5(Buffer.from('a.txt'))}&quot;`]);
      expect(tags(body, 'Size')).toEqual(['5']);
      expect(tags(body, 'LastModified')[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(errorCode(await s3({ path: '/nope', query: { 'list-type': '2' } }))).toBe(
        'NoSuchBucket',
      );
    });
  });

  describe('objects', () => {
    const body = pattern(100_000, 2);
    beforeAll(async () => {
      const r = await s3({
        method: 'PUT',
        path: '/lst/obj.bin',
        body,
        headers: {
          'content-type': 'application/x-test',
          'cache-control': 'no-cache',
          'content-disposition': 'attachment; filename="o.bin"',
          'x-amz-meta-color': 'blue',
          'x-amz-meta-Shape': 'round',
        },
      });
      expect(r.headers.etag).toBe(`"${md5(body)}"`);
    });

    it('GET and HEAD return the body, ETag and every stored header', async () => {
      const r = await s3({ path: '/lst/obj.bin' });
      expect(r.body.equals(body)).toBe(true);
      for (const h of [r.headers, (await s3({ method: 'HEAD', path: '/lst/obj.bin' })).headers]) {
        expect(h).toMatchObject({
          etag: `"${md5(body)}"`,
          'content-length': '100000',
          'content-type': 'application/x-test',
          'cache-control': 'no-cache',
          'content-disposition': 'attachment; filename="o.bin"',
          'x-amz-meta-color': 'blue',
          'x-amz-meta-shape': 'round',
          'accept-ranges': 'bytes',
        });
      }
      const overridden = await s3({
        path: '/lst/obj.bin',
        query: { 'response-content-type': 'text/plain' },
      });
      expect(overridden.headers['content-type']).toBe('text/plain');
      const missing = await s3({ method: 'HEAD', path: '/lst/none' });
      expect([missing.status, missing.body.length]).toEqual([404, 0]);
      expect(errorCode(await s3({ path: '/lst/none' }))).toBe('NoSuchKey');
    });

    it('serves every Range form, 416 past the end, NotImplemented for several', async () => {
      for (const [range, from, to] of [
        ['bytes=0-0', 0, 0],
        ['bytes=99999-99999', 99_999, 99_999],
        ['bytes=65535-65536', 65_535, 65_536],
        ['bytes=90000-', 90_000, 99_999],
        ['bytes=-10', 99_990, 99_999],
        ['bytes=5-999999', 5, 99_999],
      ] as const) {
        const r = await s3({ path: '/lst/obj.bin', headers: { range } });
        expect(r.status).toBe(206);
        expect(r.headers['content-range']).toBe(`bytes ${from}-${to}/100000`);
        expect(r.body.equals(body.subarray(from, to + 1))).toBe(true);
      }
      const past = await s3({ path: '/lst/obj.bin', headers: { range: 'bytes=100000-' } });
      expect([past.status, errorCode(past), past.headers['content-range']]).toEqual([
        416,
        'InvalidRange',
        'bytes */100000',
      ]);
      expect(
        errorCode(await s3({ path: '/lst/obj.bin', headers: { range: 'bytes=0-1,5-6' } })),
      ).toBe('NotImplemented');
    });

    it('applies If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since', async () => {
      const etag = `"${md5(body)}"`;
      const later = new Date(Date.now() + 3_600_000).toUTCString();
      const earlier = new Date(Date.now() - 3_600_000).toUTCString();
      const status = async (headers: Record<string, string>, method = 'GET') =>
        (await s3({ method, path: '/lst/obj.bin', headers })).status;
      expect(await status({ 'if-match': etag })).toBe(200);
      expect(await status({ 'if-match': '"other"' })).toBe(412);
      expect(await status({ 'if-match': '*' })).toBe(200);
      expect(await status({ 'if-none-match': etag })).toBe(304);
      expect(await status({ 'if-none-match': etag }, 'HEAD')).toBe(304);
      expect(await status({ 'if-none-match': '"other"' })).toBe(200);
      expect(await status({ 'if-modified-since': later })).toBe(304);
      expect(await status({ 'if-modified-since': earlier })).toBe(200);
      expect(await status({ 'if-unmodified-since': earlier })).toBe(412);
      expect(await status({ 'if-unmodified-since': later })).toBe(200);
      // If-Match wins over a failing If-Unmodified-Since; If-None-Match over If-Modified-Since
      expect(await status({ 'if-match': etag, 'if-unmodified-since': earlier })).toBe(200);
      expect(await status({ 'if-none-match': '"other"', 'if-modified-since': later })).toBe(200);
    });

    it('copies with COPY and REPLACE metadata, refuses a plain copy onto itself', async () => {
      const copied = await xml({
        method: 'PUT',
        path: '/lst/copy.bin',
        headers: { 'x-amz-copy-source': '/lst/obj.bin' },
      });
      expect(tags(copied, 'ETag')).toEqual([`&quot;${md5(body)}&quot;`]);
      const h1 = (await s3({ method: 'HEAD', path: '/lst/copy.bin' })).headers;
      expect(h1['x-amz-meta-color']).toBe('blue');
      await xml({
        method: 'PUT',
        path: '/lst/copy.bin',
        headers: {
          'x-amz-copy-source': '/lst/copy.bin',
          'x-amz-metadata-directive': 'REPLACE',
          'x-amz-meta-color': 'red',
          'content-type': 'text/x-new',
        },
      });
      const h2 = (await s3({ method: 'HEAD', path: '/lst/copy.bin' })).headers;
      expect([h2['x-amz-meta-color'], h2['x-amz-meta-shape'], h2['content-type']]).toEqual([
        'red',
        undefined,
        'text/x-new',
      ]);
      expect((await s3({ path: '/lst/copy.bin' })).body.equals(body)).toBe(true);
      const self = await s3({
        method: 'PUT',
        path: '/lst/copy.bin',
        headers: { 'x-amz-copy-source': '/lst/copy.bin' },
      });
      expect(errorCode(self)).toBe('InvalidRequest');
      const cond = await s3({
        method: 'PUT',
        path: '/lst/copy2.bin',
        headers: { 'x-amz-copy-source': '/lst/obj.bin', 'x-amz-copy-source-if-match': '"nope"' },
      });
      expect([cond.status, errorCode(cond)]).toEqual([412, 'PreconditionFailed']);
      const gone = await s3({
        method: 'PUT',
        path: '/lst/copy2.bin',
        headers: { 'x-amz-copy-source': '/lst/none' },
      });
      expect(errorCode(gone)).toBe('NoSuchKey');
    });

    it('DeleteObjects deletes many, reports each, quietly if asked', async () => {
      for (const k of ['d1', 'd2', 'd3'])
        await s3({ method: 'PUT', path: `/lst/del/${k}`, body: k });
      const doc =
        '<Delete><Object><Key>del/d1</Key></Object><Object><Key>del/d2</Key></Object><Object><Key>del/none</Key></Object></Delete>';
      const contentMd5 = createHash('md5').update(doc).digest('base64');
      const res = await xml({
        method: 'POST',
        path: '/lst',
        query: { delete: '' },
        body: doc,
        headers: { 'content-md5': contentMd5 },
      });
      expect(tags(res, 'Key')).toEqual(['del/d1', 'del/d2', 'del/none']);
      const quiet = await xml({
        method: 'POST',
        path: '/lst',
        query: { delete: '' },
        body: '<Delete><Quiet>true</Quiet><Object><Key>del/d3</Key></Object></Delete>',
      });
      expect(tags(quiet, 'Key')).toEqual([]);
      const left = await xml({ path: '/lst', query: { 'list-type': '2', prefix: 'del/' } });
      expect(tags(left, 'Key')).toEqual([]);
      const badMd5 = await s3({
        method: 'POST',
        path: '/lst',
        query: { delete: '' },
        body: doc,
        headers: { 'content-md5': md5b64('x') },
      });
      expect(errorCode(badMd5)).toBe('BadDigest');
    });

    it('refuses over-long keys and unsupported behaviour with NotImplemented', async () => {
      expect(
        errorCode(await s3({ method: 'PUT', path: `/lst/${'k'.repeat(1025)}`, body: 'x' })),
      ).toBe('KeyTooLongError');
      for (const query of <Record<string, string>[]>[
        { acl: '' },
        { tagging: '' },
        { versions: '' },
        { policy: '' },
        { lifecycle: '' },
      ]) {
        const r = await s3({ path: '/lst', query });
        expect([r.status, errorCode(r)]).toEqual([501, 'NotImplemented']);
      }
      for (const headers of <Record<string, string>[]>[
        { 'x-amz-acl': 'public-read' },
        { 'x-amz-storage-class': 'GLACIER' },
        { 'x-amz-tagging': 'a=b' },
        { 'x-amz-server-side-encryption': 'aws:kms' },
        { 'if-none-match': '*' },
      ]) {
        const r = await s3({ method: 'PUT', path: '/lst/ni.txt', body: 'x', headers });
        expect([r.status, errorCode(r)]).toEqual([501, 'NotImplemented']);
      }
      expect(errorCode(await s3({ path: '/lst/obj.bin', query: { versionId: 'abc' } }))).toBe(
        'NotImplemented',
      );
      expect(errorCode(await s3({ path: '/lst/obj.bin', query: { partNumber: '1' } }))).toBe(
        'NotImplemented',
      );
      const sse = await s3({
        method: 'PUT',
        path: '/lst/sse.txt',
        body: 'x',
        headers: { 'x-amz-server-side-encryption': 'AES256' },
      });
      expect(sse.headers['x-amz-server-side-encryption']).toBe('AES256');
    });
  });
});

function md5b64(text: string): string {
  return createHash('md5').update(text).digest('base64');
}
