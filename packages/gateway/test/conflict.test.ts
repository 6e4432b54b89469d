// A backend write that loses to a concurrent operation on its key (a peerstash put whose copy a
// delete everywhere took: ERR_DELETED in the node, ERR_CONFLICT here) answers 409, S3's
// OperationAborted and restic's 409, not a 500 that clients retry as a server fault; nothing kept.

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, ConflictError, type WriteOptions, type WriteResult } from '../src/index.js';
import { DiskBackend } from './disk-backend.js';
import { type Gateway, startGateway } from './harness.js';
import { pattern, removeDir, tempDir } from './helpers.js';
import { errorCode, raw, send } from './signer.js';

/** A disk backend whose writes of S3 keys with "lost" in them and of restic data read the body, then lose. */
class LosingBackend extends DiskBackend {
  override async write(
    key: string,
    source: AsyncIterable<Uint8Array>,
    options?: WriteOptions,
  ): Promise<WriteResult> {
    if (!key.includes('lost') && !key.includes('/data/')) return super.write(key, source, options);
    for await (const _ of source) {
      // the whole body arrives before the commit fails, as in the node
    }
    throw new ConflictError('a delete of this key took the copy being written');
  }
}

describe('a write that loses to a concurrent delete', () => {
  let dir: string;
  let gw: Gateway;
  let backend: Backend;
  beforeAll(async () => {
    dir = await tempDir('gateway-conflict-');
    backend = await new LosingBackend({ root: join(dir, 'store') }).open();
    gw = await startGateway(backend, { keyFile: join(dir, 'keys.json') });
  });
  afterAll(async () => {
    await gw?.close();
    await removeDir(dir);
  });

  it('S3 PutObject: 409 OperationAborted, the key stays absent, the server keeps serving', async () => {
    const c = { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey };
    expect((await send(gw.s3.url, c, { method: 'PUT', path: '/bkt' })).status).toBe(200);
    const put = await send(gw.s3.url, c, {
      method: 'PUT',
      path: '/bkt/lost.bin',
      body: pattern(200_000, 1),
    });
    expect([put.status, errorCode(put)]).toEqual([409, 'OperationAborted']);
    const head = await send(gw.s3.url, c, { method: 'HEAD', path: '/bkt/lost.bin' });
    expect(head.status).toBe(404);
    const ok = await send(gw.s3.url, c, { method: 'PUT', path: '/bkt/kept.bin', body: 'x' });
    expect(ok.status).toBe(200);
  });

  it('restic POST: 409, nothing stored under the name', async () => {
    const auth = {
      authorization: `Basic ${Buffer.from(`${gw.accessKeyId}:${gw.secretAccessKey}`).toString('base64')}`,
    };
    const req = (method: string, path: string, body?: Buffer) =>
      raw(gw.restic.url, method, path, auth, body);
    expect((await req('POST', '/r/?create=true')).status).toBe(200);
    const blob = pattern(5000, 2);
    const name = createHash('sha256').update(blob).digest('hex');
    expect((await req('POST', `/r/data/${name}`, blob)).status).toBe(409);
    expect((await req('HEAD', `/r/data/${name}`)).status).toBe(404);
  });
});
