// Incomplete multipart uploads expire (S3's AbortIncompleteMultipartUpload): past the age, an
// upload is neither listed nor served, and its record and parts leave the backend.

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskBackend } from './disk-backend.js';
import { type Gateway, startGateway } from './harness.js';
import { pattern, removeDir, tempDir } from './helpers.js';
import { tags } from './protocol-fixture.js';
import { errorCode, type SendOptions, send } from './signer.js';

const MAX_AGE_MS = 3_000;

describe('S3 multipart uploads past their age', () => {
  let dir: string;
  let backend: DiskBackend;
  let gw: Gateway;
  const s3 = (o: SendOptions) =>
    send(gw.s3.url, { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey }, o);
  const start = async (key: string) => {
    const r = await s3({ method: 'POST', path: `/old/${key}`, query: { uploads: '' } });
    expect(r.status, r.body.toString()).toBe(200);
    return tags(r.body.toString(), 'UploadId')[0]!;
  };
  const part = (key: string, uploadId: string, n: number) =>
    s3({
      method: 'PUT',
      path: `/old/${key}`,
      query: { partNumber: String(n), uploadId },
      body: pattern(2000, n),
    });

  beforeAll(async () => {
    dir = await tempDir('gateway-expiry-');
    backend = await new DiskBackend({ root: join(dir, 'store') }).open();
    gw = await startGateway(backend, {
      keyFile: join(dir, 'keys.json'),
      minPartSize: 1024,
      uploadMaxAgeMs: MAX_AGE_MS,
    });
    expect((await s3({ method: 'PUT', path: '/old' })).status).toBe(200);
  });
  afterAll(async () => {
    await gw?.close();
    await removeDir(dir);
  });

  it('are not listed (markers still page past them), not served, and leave nothing behind', async () => {
    const stale = [await start('x/1'), await start('x/2')];
    expect((await part('x/1', stale[0]!, 1)).status).toBe(200);
    expect((await part('x/2', stale[1]!, 1)).status).toBe(200);
    expect((await backend.list({ prefix: '.s3/parts/', limit: 10 })).entries).toHaveLength(2);
    await sleep(MAX_AGE_MS + 300);
    const fresh = await start('x/3');

    // one upload a page: the stale ones make empty pages that still say where to go on
    const listed: string[] = [];
    const query: Record<string, string> = { uploads: '', 'max-uploads': '1' };
    for (let pages = 0; pages < 5; pages++) {
      const page = (await s3({ path: '/old', query })).body.toString();
      listed.push(...tags(page, 'UploadId'));
      if (tags(page, 'IsTruncated')[0] !== 'true') break;
      query['key-marker'] = tags(page, 'NextKeyMarker')[0]!;
      query['upload-id-marker'] = tags(page, 'NextUploadIdMarker')[0]!;
    }
    expect(listed).toEqual([fresh]);
    // the fresh one still works (checked first: it lives only MAX_AGE_MS itself)
    expect((await part('x/3', fresh, 1)).status).toBe(200);

    const late = await part('x/1', stale[0]!, 2);
    expect(late.status).toBe(404);
    expect(errorCode(late)).toBe('NoSuchUpload');
    // record and parts are removed in the background
    const staleKeys = async () =>
      (await backend.list({ prefix: '.s3/', limit: 100 })).entries
        .map((e) => e.key)
        .filter((k) => stale.some((id) => k.includes(id)));
    await expect.poll(staleKeys, { timeout: 5_000 }).toEqual([]);
    const parts = (await backend.list({ prefix: '.s3/parts/', limit: 10 })).entries;
    expect(parts.map((e) => e.key).filter((k) => !k.includes(fresh))).toEqual([]);
  });

  it('refuses an age that is not a positive number', async () => {
    const { createS3Handler } = await import('../src/index.js');
    for (const bad of [0, -1, Number.NaN]) {
      expect(() => createS3Handler({ backend, credentials: gw.keys, uploadMaxAgeMs: bad })).toThrow(
        /uploadMaxAgeMs/,
      );
    }
  });
});
