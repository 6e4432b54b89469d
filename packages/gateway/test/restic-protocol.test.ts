// The restic REST protocol request by request: v1 and v2 listings, HEAD sizes, ranges, refused
// overwrites and hash mismatches (nothing stored), auth, bad paths and oversized headers.

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startResticServer } from '../src/index.js';
import { DiskBackend } from './disk-backend.js';
import { type Gateway, startGateway } from './harness.js';
import { pattern, removeDir, tempDir } from './helpers.js';
import { raw } from './signer.js';

const V2 = 'application/vnd.x.restic.rest.v2';

describe('restic REST protocol', () => {
  let dir: string;
  let gw: Gateway;
  let backend: DiskBackend;
  let auth: Record<string, string>;
  const blob = pattern(5000, 3);
  const name = createHash('sha256').update(blob).digest('hex');
  const req = (method: string, path: string, headers: Record<string, string> = {}, body?: Buffer) =>
    raw(gw.restic.url, method, path, { ...auth, ...headers }, body);

  beforeAll(async () => {
    dir = await tempDir('gateway-restic-proto-');
    backend = await new DiskBackend({ root: join(dir, 'store') }).open();
    gw = await startGateway(backend, { keyFile: join(dir, 'keys.json') });
    auth = {
      authorization: `Basic ${Buffer.from(`${gw.accessKeyId}:${gw.secretAccessKey}`).toString('base64')}`,
    };
    expect((await req('POST', '/repo/?create=true')).status).toBe(200);
    expect((await req('POST', '/repo/config', {}, Buffer.from('cfg'))).status).toBe(200);
    expect((await req('POST', `/repo/data/${name}`, {}, blob)).status).toBe(200);
  });
  afterAll(async () => {
    await gw?.close();
    await removeDir(dir);
  });

  it('lists names (v1) or names and sizes (v2) with the matching content type', async () => {
    const v1 = await req('GET', '/repo/data/');
    expect([v1.status, v1.headers['content-type'], JSON.parse(v1.body.toString())]).toEqual([
      200,
      'application/vnd.x.restic.rest.v1',
      [name],
    ]);
    const v2 = await req('GET', '/repo/data/', { accept: V2 });
    expect([v2.headers['content-type'], JSON.parse(v2.body.toString())]).toEqual([
      V2,
      [{ name, size: 5000 }],
    ]);
    expect(JSON.parse((await req('GET', '/repo/locks/')).body.toString())).toEqual([]);
    expect((await backend.stat(`restic/repo/data/${name}`))?.size).toBe(5000);
  });

  it('HEAD gives the size, GET serves ranges, config round-trips', async () => {
    const head = await req('HEAD', `/repo/data/${name}`);
    expect([head.status, head.headers['content-length']]).toEqual([200, '5000']);
    const range = await req('GET', `/repo/data/${name}`, { range: 'bytes=100-199' });
    expect([range.status, range.headers['content-range']]).toEqual([206, 'bytes 100-199/5000']);
    expect(range.body.equals(blob.subarray(100, 200))).toBe(true);
    expect((await req('GET', `/repo/data/${name}`)).body.equals(blob)).toBe(true);
    expect((await req('GET', `/repo/data/${name}`, { range: 'bytes=5000-' })).status).toBe(416);
    expect((await req('GET', '/repo/config')).body.toString()).toBe('cfg');
    expect((await req('HEAD', '/other/config')).status).toBe(404);
  });

  it('refuses an overwrite, a body that is not its name, and stores nothing then', async () => {
    const before = await backend.files();
    const version = (await backend.stat(`restic/repo/data/${name}`))?.version;
    // Other bytes under an existing name: refused.
    const other = pattern(5000, 77);
    expect((await req('POST', `/repo/data/${name}`, {}, other)).status).toBe(403);
    expect((await req('POST', `/repo/data/${name}`, {}, blob.subarray(1))).status).toBe(403);
    expect((await req('POST', '/repo/config', {}, Buffer.from('other'))).status).toBe(403);
    // The same bytes again (a retry whose first answer was lost): accepted, nothing rewritten.
    expect((await req('POST', `/repo/data/${name}`, {}, blob)).status).toBe(200);
    expect((await backend.stat(`restic/repo/data/${name}`))?.version).toBe(version);
    expect((await req('GET', `/repo/data/${name}`)).body.equals(blob)).toBe(true);
    const wrong = 'ab'.repeat(32);
    expect((await req('POST', `/repo/keys/${wrong}`, {}, blob)).status).toBe(400);
    expect(await backend.files()).toEqual(before);
    expect((await req('HEAD', `/repo/keys/${wrong}`)).status).toBe(404);
  });

  it('deletes, then 404; refuses odd paths and methods', async () => {
    const lock = pattern(10, 9);
    const lockName = createHash('sha256').update(lock).digest('hex');
    expect((await req('POST', `/repo/locks/${lockName}`, {}, lock)).status).toBe(200);
    expect((await req('DELETE', `/repo/locks/${lockName}`)).status).toBe(200);
    expect((await req('DELETE', `/repo/locks/${lockName}`)).status).toBe(404);
    expect((await req('POST', '/repo/')).status).toBe(400);
    expect((await req('GET', '/repo/../config')).status).toBe(404);
    expect((await req('PUT', '/repo/config')).status).toBe(405);
    expect((await req('DELETE', '/repo/data/')).status).toBe(405);
  });

  it('asks for basic auth, refuses wrong passwords and oversized headers, keeps serving', async () => {
    const none = await raw(gw.restic.url, 'GET', '/repo/config', {});
    expect([none.status, none.headers['www-authenticate']]).toEqual([401, 'Basic realm="restic"']);
    const wrong = `Basic ${Buffer.from(`${gw.accessKeyId}:nope`).toString('base64')}`;
    expect((await raw(gw.restic.url, 'GET', '/repo/config', { authorization: wrong })).status).toBe(
      401,
    );
    const ro = await gw.keys.add({ readOnly: true });
    const roAuth = `Basic ${Buffer.from(`${ro.accessKeyId}:${ro.secretAccessKey}`).toString('base64')}`;
    expect(
      (await raw(gw.restic.url, 'GET', '/repo/config', { authorization: roAuth })).status,
    ).toBe(200);
    expect(
      (await raw(gw.restic.url, 'POST', `/repo/data/${name}`, { authorization: roAuth }, blob))
        .status,
    ).toBe(403);
    const big = await req('GET', '/repo/config', { 'x-filler': 'a'.repeat(20_000) });
    expect(big.status).toBe(400);
    expect((await req('GET', '/repo/config')).status).toBe(200);
  });

  it('runs without auth only when asked to', async () => {
    const open = await startResticServer({ backend, credentials: false, listen: '127.0.0.1:0' });
    try {
      expect((await raw(open.url, 'GET', '/repo/config', {})).body.toString()).toBe('cfg');
    } finally {
      await open.close();
    }
  });
});
