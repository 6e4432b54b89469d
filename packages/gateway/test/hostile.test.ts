// Hostile and broken requests: wrong secrets (aws-cli and raw), tampered signatures, unsigned
// headers, replayed old requests, expired URLs, truncated and forged bodies, oversized headers and
// XML. Each is refused with S3's code, nothing is stored, and the server keeps serving.

import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsEnv, run } from './clients.js';
import { DiskBackend } from './disk-backend.js';
import { type Gateway, startGateway } from './harness.js';
import { md5, pattern, removeDir, tempDir } from './helpers.js';
import { type Creds, errorCode, raw, send, signed, streamingPut } from './signer.js';

/** Writes a request by hand and closes the socket after `cut` bytes of it. */
function truncated(port: number, head: string, body: Buffer, cut: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(head);
      s.end(body.subarray(0, cut));
    });
    let got = '';
    s.on('data', (c) => {
      got += c;
    });
    s.on('close', () => resolve(got));
    s.on('error', () => resolve(got));
  });
}

function head(method: string, path: string, headers: Record<string, string>): string {
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
}

describe('hostile requests', () => {
  let dir: string;
  let gw: Gateway;
  let backend: DiskBackend;
  let c: Creds;
  let url: string;

  /**
   * Waits until the store holds exactly `files` (failed writes clean up asynchronously; up to
   * 20 s, as a CI run at load 18 on 2 cores once took more than 5 s to unwind a cut body).
   */
  async function storeIs(files: string[]) {
    for (let i = 0; i < 400; i++) {
      if (JSON.stringify(await backend.files()) === JSON.stringify(files)) return;
      await sleep(50);
    }
    expect(await backend.files()).toEqual(files);
  }

  async function stillServes() {
    const r = await send(url, c, { path: '/safe/known.txt' });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('known');
  }

  beforeAll(async () => {
    dir = await tempDir('gateway-hostile-');
    backend = await new DiskBackend({ root: join(dir, 'store') }).open();
    gw = await startGateway(backend, { keyFile: join(dir, 'keys.json') });
    c = { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey };
    url = gw.s3.url;
    expect((await send(url, c, { method: 'PUT', path: '/safe' })).status).toBe(200);
    expect(
      (await send(url, c, { method: 'PUT', path: '/safe/known.txt', body: 'known' })).status,
    ).toBe(200);
  });
  afterAll(async () => {
    await gw?.close();
    await removeDir(dir);
  });

  it('a wrong secret: aws-cli is refused with SignatureDoesNotMatch', async () => {
    const env = await awsEnv(dir, {
      accessKeyId: gw.accessKeyId,
      secretAccessKey: 'not-the-secret',
    });
    const r = await run('aws', ['--endpoint-url', url, 's3', 'ls', 's3://safe'], { env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('SignatureDoesNotMatch');
    const unknown = await send(
      url,
      { accessKeyId: 'PSNOSUCHKEY000000000', secretAccessKey: 'x' },
      { path: '/safe' },
    );
    expect([unknown.status, errorCode(unknown)]).toEqual([403, 'InvalidAccessKeyId']);
    const anonymous = await raw(url, 'GET', '/safe', {});
    expect([anonymous.status, errorCode(anonymous)]).toEqual([403, 'AccessDenied']);
    await stillServes();
  });

  it('tampered signature, path, query or header, and an unsigned x-amz- header', async () => {
    const flip = (sig: string) =>
      sig.replace(/Signature=([0-9a-f])/, (_m, d) => `Signature=${d === '0' ? '1' : '0'}`);
    const cases: ((r: { path: string; headers: Record<string, string> }) => void)[] = [
      (r) => {
        r.headers.authorization = flip(r.headers.authorization!);
      },
      (r) => {
        r.path = '/safe/other.txt';
      },
      (r) => {
        r.path += '?versioning';
      },
      (r) => {
        r.headers.range = 'bytes=0-1';
        r.headers.authorization = r.headers.authorization!.replace(
          'SignedHeaders=',
          'SignedHeaders=range;',
        );
      },
    ];
    for (const after of cases) {
      const r = await send(url, c, { path: '/safe/known.txt', after });
      expect([r.status, errorCode(r)]).toEqual([403, 'SignatureDoesNotMatch']);
    }
    const unsigned = await send(url, c, {
      method: 'PUT',
      path: '/safe/x.txt',
      body: 'x',
      after: (r) => {
        r.headers['x-amz-meta-added'] = 'after signing';
      },
    });
    expect([unsigned.status, errorCode(unsigned)]).toEqual([403, 'AccessDenied']);
    await stillServes();
  });

  it('a replayed old request is too skewed; an expired or not-yet-valid presigned URL is denied', async () => {
    const old = new Date(Date.now() - 20 * 60 * 1000);
    const r = await send(url, c, { path: '/safe/known.txt', signingDate: old });
    expect([r.status, errorCode(r)]).toEqual([403, 'RequestTimeTooSkewed']);
    const future = await send(url, c, {
      path: '/safe/known.txt',
      signingDate: new Date(Date.now() + 20 * 60 * 1000),
    });
    expect(errorCode(future)).toBe('RequestTimeTooSkewed');
    // the same signed request, sent again within the window, is accepted (as S3 does)
    const s = await signed(url, c, { path: '/safe/known.txt' });
    expect((await raw(url, 'GET', s.path, s.headers)).status).toBe(200);
    expect((await raw(url, 'GET', s.path, s.headers)).status).toBe(200);

    const { signer } = await import('./signer.js');
    const host = new URL(url).host;
    const presign = (date: Date, expiresIn: number) =>
      signer(c).presign(
        {
          method: 'GET',
          protocol: 'http:',
          hostname: '127.0.0.1',
          path: '/safe/known.txt',
          query: {},
          // as the SDK's S3 presigner does: hoisted into the query as X-Amz-Content-Sha256
          headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
        },
        { signingDate: date, expiresIn },
      );
    const qs = (q: Record<string, unknown> = {}) =>
      new URLSearchParams(q as Record<string, string>).toString();
    const expired = await presign(new Date(Date.now() - 120_000), 60);
    const e = await raw(url, 'GET', `/safe/known.txt?${qs(expired.query)}`, { host });
    expect([e.status, errorCode(e)]).toEqual([403, 'AccessDenied']);
    expect(e.body.toString()).toContain('Request has expired');
    const early = await presign(new Date(Date.now() + 20 * 60 * 1000), 60);
    const n = await raw(url, 'GET', `/safe/known.txt?${qs(early.query)}`, { host });
    expect([n.status, errorCode(n)]).toEqual([403, 'AccessDenied']);
    expect(n.body.toString()).toContain('not valid yet');
    const fresh = await presign(new Date(), 60);
    expect((await raw(url, 'GET', `/safe/known.txt?${qs(fresh.query)}`, { host })).status).toBe(
      200,
    );
    await stillServes();
  });

  it('a truncated or forged chunked body stores nothing', async () => {
    const before = await backend.files();
    const payload = pattern(300_000, 9);
    const put = await streamingPut(url, c, '/safe/chunked.bin', payload, { mode: 'signed' });
    const port = gw.s3.port;
    for (const cut of [10, 70_000, put.body.length - 3]) {
      await truncated(port, head('PUT', put.path, put.headers), put.body, cut);
      await storeIs(before);
    }
    // one flipped payload byte: the chunk signature catches it
    const forged = Buffer.from(put.body);
    forged[100_000] = forged[100_000]! ^ 1;
    const f = await raw(url, 'PUT', put.path, put.headers, forged);
    expect([f.status, errorCode(f)]).toEqual([403, 'SignatureDoesNotMatch']);
    await storeIs(before);
    // refused early in a body of some MiB: the client still reads the 403, never a reset
    const long = pattern(2 * 1024 * 1024, 11);
    const big = await streamingPut(url, c, '/safe/chunked-long.bin', long, {
      mode: 'signed',
      chunkSizes: Array(32).fill(64 * 1024),
    });
    const early = Buffer.from(big.body);
    early[200_000] = early[200_000]! ^ 1;
    for (let i = 0; i < 10; i++) {
      const r = await raw(url, 'PUT', big.path, big.headers, early);
      expect([r.status, errorCode(r)]).toEqual([403, 'SignatureDoesNotMatch']);
    }
    await storeIs(before);
    // the whole body, intact, is stored
    const good = await raw(url, 'PUT', put.path, put.headers, put.body);
    expect(good.status).toBe(200);
    expect(good.headers.etag).toBe(`"${md5(payload)}"`);
    const back = await send(url, c, { path: '/safe/chunked.bin' });
    expect(back.body.equals(payload)).toBe(true);
    await send(url, c, { method: 'DELETE', path: '/safe/chunked.bin' });
    await storeIs(before);
    await stillServes();
  });

  it('a truncated plain body, a wrong payload hash or Content-MD5 store nothing', async () => {
    const before = await backend.files();
    const body = pattern(200_000, 4);
    const s = await signed(url, c, { method: 'PUT', path: '/safe/plain.bin', body });
    await truncated(gw.s3.port, head('PUT', s.path, s.headers), body, 150_000);
    await storeIs(before);
    const lying = await send(url, c, {
      method: 'PUT',
      path: '/safe/plain.bin',
      body,
      payloadHash: 'ab'.repeat(32),
    });
    expect([lying.status, errorCode(lying)]).toEqual([400, 'XAmzContentSHA256Mismatch']);
    const badMd5 = await send(url, c, {
      method: 'PUT',
      path: '/safe/plain.bin',
      body,
      headers: { 'content-md5': Buffer.alloc(16).toString('base64') },
    });
    expect([badMd5.status, errorCode(badMd5)]).toEqual([400, 'BadDigest']);
    await storeIs(before);
    await stillServes();
  });

  it('oversized headers and XML, malformed XML: 400 and the server goes on', async () => {
    const big = await raw(url, 'GET', '/safe/known.txt', { 'x-filler': 'a'.repeat(20_000) });
    expect([big.status, errorCode(big)]).toEqual([400, 'RequestHeaderSectionTooLarge']);
    const hugeXml = Buffer.from(
      `<Delete>${'<Object><Key>k</Key></Object>'.repeat(100_000)}</Delete>`,
    );
    const tooBig = await send(url, c, {
      method: 'POST',
      path: '/safe',
      query: { delete: '' },
      body: hugeXml,
    });
    expect([tooBig.status, errorCode(tooBig)]).toEqual([400, 'MaxMessageLengthExceeded']);
    const broken = await send(url, c, {
      method: 'POST',
      path: '/safe',
      query: { delete: '' },
      body: '<Delete><Object>',
    });
    expect([broken.status, errorCode(broken)]).toEqual([400, 'MalformedXML']);
    const entities = await send(url, c, {
      method: 'POST',
      path: '/safe',
      query: { delete: '' },
      body: '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><Delete><Object><Key>&b;</Key></Object></Delete>',
    });
    // entities are never expanded: the key is the literal text, deleting nothing that exists
    expect(entities.status).toBe(200);
    expect(entities.body.toString()).toContain('<Key>&amp;b;</Key>');
    await stillServes();
  });

  it('a read-only key reads but never writes; a bucket key sees only its bucket', async () => {
    const ro = await gw.keys.add({ readOnly: true });
    const roc = { accessKeyId: ro.accessKeyId, secretAccessKey: ro.secretAccessKey };
    expect((await send(url, roc, { path: '/safe/known.txt' })).status).toBe(200);
    const put = await send(url, roc, { method: 'PUT', path: '/safe/ro.txt', body: 'no' });
    expect([put.status, errorCode(put)]).toEqual([403, 'AccessDenied']);
    const del = await send(url, roc, { method: 'DELETE', path: '/safe/known.txt' });
    expect([del.status, errorCode(del)]).toEqual([403, 'AccessDenied']);

    expect((await send(url, c, { method: 'PUT', path: '/other' })).status).toBe(200);
    const bk = await gw.keys.add({ bucket: 'other' });
    const bkc = { accessKeyId: bk.accessKeyId, secretAccessKey: bk.secretAccessKey };
    expect(
      (await send(url, bkc, { method: 'PUT', path: '/other/mine.txt', body: 'mine' })).status,
    ).toBe(200);
    const cross = await send(url, bkc, { path: '/safe/known.txt' });
    expect([cross.status, errorCode(cross)]).toEqual([403, 'AccessDenied']);
    const copy = await send(url, bkc, {
      method: 'PUT',
      path: '/other/stolen.txt',
      headers: { 'x-amz-copy-source': '/safe/known.txt' },
    });
    expect([copy.status, errorCode(copy)]).toEqual([403, 'AccessDenied']);
    const buckets = (await send(url, bkc, { path: '/' })).body.toString();
    expect(buckets).toContain('<Name>other</Name>');
    expect(buckets).not.toContain('<Name>safe</Name>');
    // a revoked key stops working at once, without a restart
    await gw.keys.revoke(bk.accessKeyId);
    expect(errorCode(await send(url, bkc, { path: '/other/mine.txt' }))).toBe('InvalidAccessKeyId');
    await stillServes();
  });

  it('an aborted multipart upload keeps nothing', async () => {
    const before = await backend.files();
    const init = await send(url, c, {
      method: 'POST',
      path: '/safe/mp.bin',
      query: { uploads: '' },
    });
    const uploadId = /<UploadId>([^<]+)</.exec(init.body.toString())![1]!;
    for (const n of [1, 2]) {
      const r = await send(url, c, {
        method: 'PUT',
        path: '/safe/mp.bin',
        query: { partNumber: String(n), uploadId },
        body: pattern(100_000, n),
      });
      expect(r.status).toBe(200);
    }
    expect(
      (await send(url, c, { method: 'DELETE', path: '/safe/mp.bin', query: { uploadId } })).status,
    ).toBe(204);
    await storeIs(before);
    const late = await send(url, c, {
      method: 'PUT',
      path: '/safe/mp.bin',
      query: { partNumber: '3', uploadId },
      body: 'x',
    });
    expect([late.status, errorCode(late)]).toEqual([404, 'NoSuchUpload']);
    await storeIs(before);
    await stillServes();
  });
});
