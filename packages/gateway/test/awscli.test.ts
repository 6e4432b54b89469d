// aws-cli (v2, Debian's) against the S3 server: mb, a 300 MiB multipart cp and back with a
// sha256 compare, ls --recursive, sync, s3api head-object, a presigned GET with curl, rm.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/index.js';
import { awsEnv, ok, run } from './clients.js';
import { DiskBackend } from './disk-backend.js';
import { type Gateway, startGateway } from './harness.js';
import { bigFile, removeDir, tempDir } from './helpers.js';

const MIB = 1024 * 1024;

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c);
  return h.digest('hex');
}

describe('aws-cli over the S3 server', () => {
  let dir: string;
  let gw: Gateway;
  let env: Record<string, string>;
  let backend: DiskBackend;
  const aws = (args: string[]) =>
    ok('aws', ['--endpoint-url', gw.s3.url, ...args], { env, timeoutMs: 600_000 });

  beforeAll(async () => {
    dir = await tempDir('gateway-awscli-');
    backend = await new DiskBackend({ root: join(dir, 'store') }).open();
    gw = await startGateway(backend, { keyFile: join(dir, 'keys.json') });
    env = await awsEnv(dir, gw);
  });
  afterAll(async () => {
    await gw?.close();
    await removeDir(dir);
  });

  it('mb, multipart cp of 300 MiB up and down, head-object, presigned curl, ls, sync, rm', async () => {
    await aws(['s3', 'mb', 's3://photos']);
    const big = join(dir, 'big.bin');
    await bigFile(big, 300 * MIB);
    await aws(['s3', 'cp', big, 's3://photos/raw/big.bin', '--no-progress']);
    const head = JSON.parse(
      (await aws(['s3api', 'head-object', '--bucket', 'photos', '--key', 'raw/big.bin'])).stdout,
    );
    expect(head.ContentLength).toBe(300 * MIB);
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}-\d+"$/); // multipart: md5 of md5s, dash, part count
    const back = join(dir, 'back.bin');
    await aws(['s3', 'cp', 's3://photos/raw/big.bin', back, '--no-progress']);
    expect(await fileSha256(back)).toBe(await fileSha256(big));
    // no part or upload record is left once the upload completed
    expect((await backend.list({ prefix: '.s3/parts/', limit: 10 })).entries).toEqual([]);
    expect((await backend.list({ prefix: '.s3/uploads/', limit: 10 })).entries).toEqual([]);

    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'sub', 'deeper'), { recursive: true });
    const files: Record<string, string> = {
      'a.txt': 'alpha\n',
      'sub/b.txt': 'beta\n',
      'sub/deeper/c d+e.txt': 'gamma with odd name\n',
      'sub/ünïcødé.txt': 'unicode\n',
    };
    for (const [name, body] of Object.entries(files)) await writeFile(join(tree, name), body);
    await aws(['s3', 'sync', tree, 's3://photos/tree']);
    const ls = (await aws(['s3', 'ls', '--recursive', 's3://photos'])).stdout;
    for (const name of Object.keys(files)) expect(ls).toContain(`tree/${name}`);
    expect(ls).toContain('raw/big.bin');
    // a second sync has nothing to do
    expect((await aws(['s3', 'sync', tree, 's3://photos/tree'])).stdout.trim()).toBe('');
    const down = join(dir, 'down');
    await aws(['s3', 'sync', 's3://photos/tree', down]);
    const got = await readdir(down, { recursive: true });
    expect(got.sort()).toEqual(
      ['a.txt', 'sub', 'sub/b.txt', 'sub/deeper', 'sub/deeper/c d+e.txt', 'sub/ünïcødé.txt'].sort(),
    );
    expect((await run('diff', ['-r', tree, down])).code).toBe(0);

    const url = (
      await aws(['s3', 'presign', 's3://photos/tree/sub/deeper/c d+e.txt', '--expires-in', '300'])
    ).stdout.trim();
    const curl = await ok('curl', ['-sS', '-f', url]);
    expect(curl.stdout).toBe('gamma with odd name\n');
    const tampered = url.replace(/X-Amz-Expires=300/, 'X-Amz-Expires=301');
    const denied = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', tampered]);
    expect(denied.stdout).toBe('403');

    await aws(['s3', 'rm', 's3://photos/raw/big.bin']);
    await aws(['s3', 'rm', '--recursive', 's3://photos/tree']);
    expect((await aws(['s3', 'ls', '--recursive', 's3://photos'])).stdout.trim()).toBe('');
    await aws(['s3', 'rb', 's3://photos']);
    expect((await aws(['s3', 'ls'])).stdout).not.toContain('photos');
    // every byte is gone from the store, not just hidden
    expect(await backend.bytesOnDisk()).toBe(0);
  }, 900_000);

  it('a slow Complete answers 200 early with keep-alive spaces, which aws-cli parses', async () => {
    const slowDir = await tempDir('gateway-awscli-slow-');
    const disk = await new DiskBackend({ root: join(slowDir, 'store') }).open();
    // compose that takes longer than the keep-alive interval, as a big copy on a loaded node can
    const slow: Backend = {
      list: (o) => disk.list(o),
      stat: (k) => disk.stat(k),
      read: (k, o) => disk.read(k, o),
      write: (k, s, o) => disk.write(k, s, o),
      delete: (k, o) => disk.delete(k, o),
      compose: async (k, s, o) => {
        await sleep(600);
        return disk.compose!(k, s, o);
      },
    };
    const g = await startGateway(slow, {
      keyFile: join(slowDir, 'keys.json'),
      completeKeepAliveMs: 100,
    });
    try {
      const e = await awsEnv(slowDir, g);
      const a = (args: string[]) => ok('aws', ['--endpoint-url', g.s3.url, ...args], { env: e });
      await a(['s3', 'mb', 's3://slow']);
      const file = join(slowDir, 'f.bin');
      await bigFile(file, 20 * MIB);
      await a(['s3', 'cp', file, 's3://slow/f.bin', '--no-progress']);
      const head = JSON.parse(
        (await a(['s3api', 'head-object', '--bucket', 'slow', '--key', 'f.bin'])).stdout,
      );
      expect(head.ETag).toMatch(/-3"$/);
      await a(['s3', 'cp', 's3://slow/f.bin', join(slowDir, 'g.bin'), '--no-progress']);
      expect(await fileSha256(join(slowDir, 'g.bin'))).toBe(await fileSha256(file));
    } finally {
      await g.close();
      await removeDir(slowDir);
    }
  }, 300_000);
});
