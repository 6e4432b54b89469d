// s3cmd against the S3 server: mb, put (single and multipart), get, ls, info, del, rb.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, run } from './clients.js';
import { DiskBackend } from './disk-backend.js';
import { type Gateway, startGateway } from './harness.js';
import { bigFile, removeDir, sha256, tempDir } from './helpers.js';

describe('s3cmd over the S3 server', () => {
  let dir: string;
  let gw: Gateway;
  let backend: DiskBackend;
  const s3cmd = (args: string[]) =>
    ok('s3cmd', ['-c', join(dir, 's3cfg'), ...args], { timeoutMs: 600_000 });

  beforeAll(async () => {
    dir = await tempDir('gateway-s3cmd-');
    backend = await new DiskBackend({ root: join(dir, 'store') }).open();
    gw = await startGateway(backend, { keyFile: join(dir, 'keys.json') });
    const host = `127.0.0.1:${gw.s3.port}`;
    await writeFile(
      join(dir, 's3cfg'),
      [
        '[default]',
        `access_key = ${gw.accessKeyId}`,
        `secret_key = ${gw.secretAccessKey}`,
        `host_base = ${host}`,
        `host_bucket = ${host}`,
        'use_https = False',
        'signature_v2 = False',
        'bucket_location = us-east-1',
        'multipart_chunk_size_mb = 5',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await gw?.close();
    await removeDir(dir);
  });

  it('mb, put, get, ls, info, del and rb', async () => {
    await s3cmd(['mb', 's3://docs']);
    const small = join(dir, 'small.txt');
    await writeFile(small, 'a small file for s3cmd\n');
    const big = join(dir, 'big.bin');
    await bigFile(big, 23 * 1024 * 1024); // five parts of 5 MiB

    await s3cmd(['put', small, 's3://docs/notes/small.txt']);
    await s3cmd(['put', big, 's3://docs/blobs/big.bin']);
    const ls = (await s3cmd(['ls', '-r', 's3://docs'])).stdout;
    expect(ls).toContain('s3://docs/notes/small.txt');
    expect(ls).toContain('s3://docs/blobs/big.bin');
    expect((await s3cmd(['ls', 's3://docs'])).stdout).toMatch(/DIR\s+s3:\/\/docs\/blobs\//);
    expect((await s3cmd(['ls'])).stdout).toContain('s3://docs');
    const info = (await s3cmd(['info', 's3://docs/blobs/big.bin'])).stdout;
    expect(info).toMatch(/File size:\s+24117248/);
    // s3cmd sent it in 5 MiB parts
    expect((await backend.stat('docs/blobs/big.bin'))?.attributes['mp-parts']).toBe('5');

    const got = join(dir, 'got.bin');
    await s3cmd(['get', 's3://docs/blobs/big.bin', got]);
    expect(sha256(await readFile(got))).toBe(sha256(await readFile(big)));
    await s3cmd(['get', 's3://docs/notes/small.txt', join(dir, 'got.txt')]);
    expect(await readFile(join(dir, 'got.txt'), 'utf8')).toBe('a small file for s3cmd\n');

    await s3cmd(['del', 's3://docs/notes/small.txt']);
    await s3cmd(['del', 's3://docs/blobs/big.bin']);
    expect((await s3cmd(['ls', '-r', 's3://docs'])).stdout.trim()).toBe('');
    const missing = await run('s3cmd', [
      '-c',
      join(dir, 's3cfg'),
      'get',
      's3://docs/notes/small.txt',
      join(dir, 'x'),
    ]);
    expect(missing.code).not.toBe(0);
    expect(`${missing.stderr}${missing.stdout}`).toMatch(/404|NoSuchKey|does not exist/);
    await s3cmd(['rb', 's3://docs']);
    expect(await backend.bytesOnDisk()).toBe(0);
  }, 600_000);

  it("curl's own SigV4 (--aws-sigv4) puts and gets, and is refused without x-amz-content-sha256", async () => {
    await s3cmd(['mb', 's3://curled']);
    const file = join(dir, 'c.bin');
    await bigFile(file, 3 * 1024 * 1024);
    const sig = [
      '-sS',
      '--aws-sigv4',
      'aws:amz:us-east-1:s3',
      '--user',
      `${gw.accessKeyId}:${gw.secretAccessKey}`,
    ];
    const url = `${gw.s3.url}/curled/c.bin`;
    const unsigned = ['-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD'];
    await ok('curl', [...sig, ...unsigned, '-f', '-T', file, url]);
    await ok('curl', [...sig, ...unsigned, '-f', url, '-o', join(dir, 'c2.bin')]);
    expect(sha256(await readFile(join(dir, 'c2.bin')))).toBe(sha256(await readFile(file)));
    const bare = await run('curl', [...sig, url]);
    expect(bare.stdout).toContain('<Code>InvalidRequest</Code>');
  }, 120_000);
});
