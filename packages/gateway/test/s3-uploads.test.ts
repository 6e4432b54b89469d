// The S3 API request by request, part 2: checksums and streaming (aws-chunked) bodies,
// multipart rules, bucket rules and virtual hosts.

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { startS3Server } from '../src/index.js';
import { DiskBackend } from './disk-backend.js';
import { startGateway } from './harness.js';
import { pattern, removeDir, tempDir } from './helpers.js';
import { protocolGateway, tags } from './protocol-fixture.js';
import { errorCode, raw, type SendOptions, send, streamingPut } from './signer.js';

describe('S3 protocol: uploads and buckets', () => {
  const p = protocolGateway();
  const { s3, xml } = p;
  beforeAll(async () => {
    expect(
      (await s3({ method: 'PUT', path: '/lst/obj.bin', body: pattern(100_000, 2) })).status,
    ).toBe(200);
  });

  describe('checksums and streaming bodies', () => {
    const payload = pattern(200_000, 5);
    const crc = () => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(crc32(payload));
      return b.toString('base64');
    };

    it('verifies an unsigned chunked body with a CRC32 trailer and returns it with checksum mode', async () => {
      const put = await streamingPut(p.gw.s3.url, p.c, '/lst/trailer.bin', payload, {
        mode: 'unsigned-trailer',
        trailer: ['x-amz-checksum-crc32', crc()],
        chunkSizes: [8192, 65_536],
      });
      const r = await raw(p.gw.s3.url, 'PUT', put.path, put.headers, put.body);
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
      const put = await streamingPut(p.gw.s3.url, p.c, '/lst/trailer.bin', pattern(1000, 1), {
        mode: 'unsigned-trailer',
        trailer: ['x-amz-checksum-crc32', 'AAAAAA=='],
      });
      const r = await raw(p.gw.s3.url, 'PUT', put.path, put.headers, put.body);
      expect([r.status, errorCode(r)]).toEqual([400, 'BadDigest']);
      expect((await s3({ path: '/lst/trailer.bin' })).body.equals(payload)).toBe(true);
    });

    it('verifies signed chunks with a signed SHA-256 trailer', async () => {
      const sha = createHash('sha256').update(payload).digest('base64');
      const put = await streamingPut(p.gw.s3.url, p.c, '/lst/signed.bin', payload, {
        mode: 'signed-trailer',
        trailer: ['x-amz-checksum-sha256', sha],
      });
      const r = await raw(p.gw.s3.url, 'PUT', put.path, put.headers, put.body);
      expect(r.status, r.body.toString()).toBe(200);
      const bad = Buffer.from(
        put.body.toString('latin1').replace(
          sha,
          sha.replace(/^./, (x) => (x === 'A' ? 'B' : 'A')),
        ),
        'latin1',
      );
      const refused = await raw(p.gw.s3.url, 'PUT', put.path, put.headers, bad);
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
      expect((await p.backend.list({ prefix: `.s3/parts/${id}/`, limit: 10 })).entries).toEqual([]);
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
      expect((await p.backend.stat('lst/a.txt'))?.size).toBe(5);
    });

    it('serves virtual-host style requests when a domain is configured', async () => {
      const vh = await startS3Server({
        backend: p.backend,
        credentials: p.gw.keys,
        listen: '127.0.0.1:0',
        virtualHostDomains: ['s3.test'],
      });
      try {
        const host = `lst.s3.test:${vh.port}`;
        const r = await send(vh.url, p.c, { path: '/a.txt', headers: { host } });
        expect([r.status, r.body.toString()]).toEqual([200, 'a.txt']);
        const list = await send(vh.url, p.c, {
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
        expect((await send(vh.url, p.c, { path: '/lst/a.txt' })).body.toString()).toBe('a.txt');
      } finally {
        await vh.close();
      }
    });
  });
});
