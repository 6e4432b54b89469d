// The S3 API at the protocol level, request by request: listings (V1/V2, delimiters, paging,
// URL encoding), ranges, conditions, metadata, copy, DeleteObjects, multipart rules, checksums and
// trailers, bucket rules, virtual hosts, and NotImplemented for what is not built.

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Server } from '../src/index.js';
import { DiskBackend } from './disk-backend.js';
import { type Gateway, startGateway } from './harness.js';
import { md5, pattern, removeDir, tempDir } from './helpers.js';
import { type Creds, errorCode, raw, type SendOptions, send, streamingPut } from './signer.js';

const tags = (xml: string, name: string) =>
  [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1]!);

describe('S3 protocol', () => {
  let dir: string;
  let gw: Gateway;
  let backend: DiskBackend;
  let c: Creds;
  const s3 = (o: SendOptions) => send(gw.s3.url, c, o);
  const xml = async (o: SendOptions) => {
    const r = await s3(o);
    expect(r.status, r.body.toString()).toBe(200);
    return r.body.toString();
  };

  beforeAll(async () => {
    dir = await tempDir('gateway-protocol-');
    backend = await new DiskBackend({ root: join(dir, 'store') }).open();
    gw = await startGateway(backend, { keyFile: join(dir, 'keys.json'), minPartSize: 1024 });
    c = { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey };
    expect((await s3({ method: 'PUT', path: '/lst' })).status).toBe(200);
    for (const k of ['a.txt', 'dir/b.txt', 'dir/c.txt', 'dir/sub/d.txt', 'e f+g.txt', 'z/ü.txt']) {
      expect((await s3({ method: 'PUT', path: `/lst/${k}`, body: k })).status).toBe(200);
    }
  });
  afterAll(async () => {
    await gw?.close();
    await removeDir(dir);
  });

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
      for (const query of [
        { acl: '' },
        { tagging: '' },
        { versions: '' },
        { policy: '' },
        { lifecycle: '' },
      ]) {
        const r = await s3({ path: '/lst', query });
        expect([r.status, errorCode(r)]).toEqual([501, 'NotImplemented']);
      }
      for (const headers of [
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

  describe('checksums and streaming bodies', () => {
    const payload = pattern(200_000, 5);
    const crc = () => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(crc32(payload));
      return b.toString('base64');
    };

    it('verifies an unsigned chunked body with a CRC32 trailer and returns it with checksum mode', async () => {
      const put = await streamingPut(gw.s3.url, c, '/lst/trailer.bin', payload, {
        mode: 'unsigned-trailer',
        trailer: ['x-amz-checksum-crc32', crc()],
        chunkSizes: [8192, 65_536],
      });
      const r = await raw(gw.s3.url, 'PUT', put.path, put.headers, put.body);
      expect(r.status, r.body.toString()).toBe(200);
      expect(r.headers['x-amz-checksum-crc32']).toBe(crc());
      const head = await s3({
        method: 'HEAD',
        path: '/lst/trailer.bin',
        headers: { 'x-amz-checksum-mode': 'ENABLED' },
      });
      expect(head.headers['x-amz-checksum-crc32']).toBe(crc());
      expect(head.headers['content-encoding']).toBeUndefined();
      expect((await s3({ path: '/lst/trailer.bin' })).body.equals(payload)).toBe(true);
    });

    it('refuses a wrong trailer checksum and keeps the old object', async () => {
      const put = await streamingPut(gw.s3.url, c, '/lst/trailer.bin', pattern(1000, 1), {
        mode: 'unsigned-trailer',
        trailer: ['x-amz-checksum-crc32', 'AAAAAA=='],
      });
      const r = await raw(gw.s3.url, 'PUT', put.path, put.headers, put.body);
      expect([r.status, errorCode(r)]).toEqual([400, 'BadDigest']);
      expect((await s3({ path: '/lst/trailer.bin' })).body.equals(payload)).toBe(true);
    });

    it('verifies signed chunks with a signed SHA-256 trailer', async () => {
      const sha = createHash('sha256').update(payload).digest('base64');
      const put = await streamingPut(gw.s3.url, c, '/lst/signed.bin', payload, {
        mode: 'signed-trailer',
        trailer: ['x-amz-checksum-sha256', sha],
      });
      const r = await raw(gw.s3.url, 'PUT', put.path, put.headers, put.body);
      expect(r.status, r.body.toString()).toBe(200);
      const bad = Buffer.from(
        put.body.toString('latin1').replace(
          sha,
          sha.replace(/^./, (x) => (x === 'A' ? 'B' : 'A')),
        ),
        'latin1',
      );
      const refused = await raw(gw.s3.url, 'PUT', put.path, put.headers, bad);
      expect(refused.status).toBe(403);
    });

    it('verifies checksum headers on single-shot bodies, and refuses CRC64NVME as not implemented', async () => {
      const ok = await s3({
        method: 'PUT',
        path: '/lst/crc.bin',
        body: payload,
        headers: { 'x-amz-checksum-crc32': crc() },
      });
      expect(ok.status).toBe(200);
      const bad = await s3({
        method: 'PUT',
        path: '/lst/crc.bin',
        body: payload,
        headers: { 'x-amz-checksum-crc32': 'AAAAAA==' },
      });
      expect(errorCode(bad)).toBe('BadDigest');
      const nvme = await s3({
        method: 'PUT',
        path: '/lst/crc.bin',
        body: payload,
        headers: { 'x-amz-checksum-crc64nvme': 'AAAAAAAAAAA=' },
      });
      expect(errorCode(nvme)).toBe('NotImplemented');
      const unsigned = await s3({
        method: 'PUT',
        path: '/lst/unsigned.bin',
        body: payload,
        payloadHash: 'UNSIGNED-PAYLOAD',
      });
      expect(unsigned.status).toBe(200);
    });
  });

  describe('multipart', () => {
    const start = async (key: string) => {
      const body = await xml({
        method: 'POST',
        path: `/lst/${key}`,
        query: { uploads: '' },
        headers: { 'x-amz-meta-kind': 'mp' },
      });
      return tags(body, 'UploadId')[0]!;
    };
    const part = async (key: string, uploadId: string, n: number, data: Buffer) => {
      const r = await s3({
        method: 'PUT',
        path: `/lst/${key}`,
        query: { partNumber: String(n), uploadId },
        body: data,
      });
      expect(r.status).toBe(200);
      return r.headers.etag as string;
    };
    const complete = (key: string, uploadId: string, parts: [number, string][]) =>
      s3({
        method: 'POST',
        path: `/lst/${key}`,
        query: { uploadId },
        body: `<CompleteMultipartUpload>${parts.map(([n, e]) => `<Part><PartNumber>${n}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`,
      });

    it('assembles parts in order with an md5-of-md5s ETag, lists parts and uploads, copies parts', async () => {
      const p1 = pattern(3000, 11);
      const p2 = pattern(2000, 12);
      const id = await start('mp/one.bin');
      const e2 = await part('mp/one.bin', id, 2, p2);
      const e1 = await part('mp/one.bin', id, 1, p1);
      await part('mp/one.bin', id, 7, pattern(10, 1)); // uploaded, never listed in Complete
      const copied = await xml({
        method: 'PUT',
        path: '/lst/mp/one.bin',
        query: { partNumber: '3', uploadId: id },
        headers: {
          'x-amz-copy-source': '/lst/obj.bin',
          'x-amz-copy-source-range': 'bytes=10-1509',
        },
      });
      const e3 = `"${tags(copied, 'ETag')[0]!.replace(/&quot;/g, '')}"`;
      const parts = await xml({
        path: '/lst/mp/one.bin',
        query: { uploadId: id, 'max-parts': '2' },
      });
      expect(tags(parts, 'PartNumber')).toEqual(['1', '2']);
      expect(tags(parts, 'IsTruncated')).toEqual(['true']);
      const rest = await xml({
        path: '/lst/mp/one.bin',
        query: { uploadId: id, 'part-number-marker': '2' },
      });
      expect(tags(rest, 'PartNumber')).toEqual(['3', '7']);
      const uploads = await xml({ path: '/lst', query: { uploads: '', prefix: 'mp/' } });
      expect(tags(uploads, 'UploadId')).toEqual([id]);
      expect(tags(uploads, 'Key')).toEqual(['mp/one.bin']);

      const done = await complete('mp/one.bin', id, [
        [1, e1],
        [2, e2],
        [3, e3],
      ]);
      expect(done.status, done.body.toString()).toBe(200);
      const source = pattern(100_000, 2).subarray(10, 1510);
      const whole = Buffer.concat([p1, p2, source]);
      const md5s = Buffer.concat([p1, p2, source].map((b) => createHash('md5').update(b).digest()));
      const etag = `"${createHash('md5').update(md5s).digest('hex')}-3"`;
      expect(tags(done.body.toString(), 'ETag')).toEqual([etag.replace(/"/g, '&quot;')]);
      const got = await s3({ path: '/lst/mp/one.bin' });
      expect(got.body.equals(whole)).toBe(true);
      expect(got.headers).toMatchObject({
        etag,
        'x-amz-meta-kind': 'mp',
        'x-amz-mp-parts-count': '3',
      });
      expect((await backend.list({ prefix: `.s3/parts/${id}/`, limit: 10 })).entries).toEqual([]);
      expect(tags(await xml({ path: '/lst', query: { uploads: '' } }), 'UploadId')).toEqual([]);
    });

    it('refuses bad part lists: order, unknown parts, wrong ETags, small parts, unknown uploads', async () => {
      const id = await start('mp/bad.bin');
      const e1 = await part('mp/bad.bin', id, 1, pattern(2000, 1));
      const e2 = await part('mp/bad.bin', id, 2, pattern(500, 2));
      const e3 = await part('mp/bad.bin', id, 3, pattern(2000, 3));
      expect(
        errorCode(
          await complete('mp/bad.bin', id, [
            [2, e2],
            [1, e1],
          ]),
        ),
      ).toBe('InvalidPartOrder');
      expect(
        errorCode(
          await complete('mp/bad.bin', id, [
            [1, e1],
            [4, e1],
          ]),
        ),
      ).toBe('InvalidPart');
      expect(errorCode(await complete('mp/bad.bin', id, [[1, e2]]))).toBe('InvalidPart');
      expect(
        errorCode(
          await complete('mp/bad.bin', id, [
            [1, e1],
            [2, e2],
            [3, e3],
          ]),
        ),
      ).toBe('EntityTooSmall');
      expect(errorCode(await complete('mp/bad.bin', 'f'.repeat(32), [[1, e1]]))).toBe(
        'NoSuchUpload',
      );
      const badNumber = await s3({
        method: 'PUT',
        path: '/lst/mp/bad.bin',
        query: { partNumber: '10001', uploadId: id },
        body: 'x',
      });
      expect(errorCode(badNumber)).toBe('InvalidArgument');
      // a small last part is fine
      expect(
        (
          await complete('mp/bad.bin', id, [
            [1, e1],
            [2, e2],
          ])
        ).status,
      ).toBe(200);
    });

    it('streams parts into the backend without compose too', async () => {
      const plainDir = await tempDir('gateway-nocompose-');
      const plain = await new DiskBackend({ root: plainDir, compose: false }).open();
      const other = await startGateway(plain, {
        keyFile: join(plainDir, 'keys.json'),
        minPartSize: 1024,
      });
      try {
        const oc = { accessKeyId: other.accessKeyId, secretAccessKey: other.secretAccessKey };
        const o = (x: SendOptions) => send(other.s3.url, oc, x);
        const mb = await o({ method: 'PUT', path: '/bkt' });
        expect(mb.status, mb.body.toString()).toBe(200);
        const id = tags(
          (await o({ method: 'POST', path: '/bkt/k', query: { uploads: '' } })).body.toString(),
          'UploadId',
        )[0]!;
        const parts = [pattern(5000, 1), pattern(3000, 2)];
        const etags: string[] = [];
        for (const [i, p] of parts.entries()) {
          etags.push(
            (
              await o({
                method: 'PUT',
                path: '/bkt/k',
                query: { partNumber: String(i + 1), uploadId: id },
                body: p,
              })
            ).headers.etag as string,
          );
        }
        const doc = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
        expect(
          (await o({ method: 'POST', path: '/bkt/k', query: { uploadId: id }, body: doc })).status,
        ).toBe(200);
        expect((await o({ path: '/bkt/k' })).body.equals(Buffer.concat(parts))).toBe(true);
        expect((await plain.list({ prefix: '.s3/parts/', limit: 10 })).entries).toEqual([]);
      } finally {
        await other.close();
        await removeDir(plainDir);
      }
    });
  });

  describe('buckets', () => {
    it('creates, refuses duplicates, bad and reserved names, deletes only when empty', async () => {
      expect((await s3({ method: 'PUT', path: '/fresh' })).status).toBe(200);
      expect(errorCode(await s3({ method: 'PUT', path: '/fresh' }))).toBe(
        'BucketAlreadyOwnedByYou',
      );
      expect(errorCode(await s3({ method: 'PUT', path: '/Bad_Name' }))).toBe('InvalidBucketName');
      expect(errorCode(await s3({ method: 'PUT', path: '/restic' }))).toBe('BucketAlreadyExists');
      expect((await s3({ method: 'HEAD', path: '/fresh' })).status).toBe(200);
      expect((await s3({ method: 'HEAD', path: '/absent' })).status).toBe(404);
      await s3({ method: 'PUT', path: '/fresh/x', body: 'x' });
      expect(errorCode(await s3({ method: 'DELETE', path: '/fresh' }))).toBe('BucketNotEmpty');
      await s3({ method: 'DELETE', path: '/fresh/x' });
      expect((await s3({ method: 'DELETE', path: '/fresh' })).status).toBe(204);
      expect(errorCode(await s3({ method: 'PUT', path: '/fresh/x', body: 'x' }))).toBe(
        'NoSuchBucket',
      );
      const loc = await s3({
        method: 'PUT',
        path: '/elsewhere',
        body: '<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>',
      });
      expect(errorCode(loc)).toBe('InvalidArgument');
      expect(errorCode(await s3({ path: '/', region: 'eu-west-1' }))).toBe(
        'AuthorizationHeaderMalformed',
      );
      // an S3 bucket is the top-level folder of its name
      expect((await backend.stat('lst/a.txt'))?.size).toBe(5);
    });

    it('serves virtual-host style requests when a domain is configured', async () => {
      const vh = await startS3Server({
        backend,
        credentials: gw.keys,
        listen: '127.0.0.1:0',
        virtualHostDomains: ['s3.test'],
      });
      try {
        const host = `lst.s3.test:${vh.port}`;
        const r = await send(vh.url, c, { path: '/a.txt', headers: { host } });
        expect([r.status, r.body.toString()]).toEqual([200, 'a.txt']);
        const list = await send(vh.url, c, {
          path: '/',
          query: { 'list-type': '2', prefix: 'dir/' },
          headers: { host },
        });
        expect(tags(list.body.toString(), 'Key')).toEqual([
          'dir/b.txt',
          'dir/c.txt',
          'dir/sub/d.txt',
        ]);
        // path style still works on the same listener
        expect((await send(vh.url, c, { path: '/lst/a.txt' })).body.toString()).toBe('a.txt');
      } finally {
        await vh.close();
      }
    });
  });
});

function md5b64(text: string): string {
  return createHash('md5').update(text).digest('base64');
}
