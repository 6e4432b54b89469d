// s3cmd against the S3 gateway of a real 3-node cluster (R=2): mb, put (single and multipart),
// get with a byte compare, ls, del.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ok, run } from '../../../packages/gateway/test/clients.js';
import { send } from '../../../packages/gateway/test/signer.js';
import { patternSha256, patternStream, stopCluster, tempDir } from '../../cluster/test/harness.js';
import { type GatewayCluster, startGatewayCluster } from './cluster.js';

let c: GatewayCluster;
let work: string;
const s3cmd = (args: string[]) => run('s3cmd', ['-c', join(work, 's3cfg'), ...args]);
const okS3cmd = (args: string[]) =>
  ok('s3cmd', ['-c', join(work, 's3cfg'), ...args], { timeoutMs: 300_000 });

beforeAll(async () => {
  c = await startGatewayCluster();
  work = await tempDir('gw-s3cmd');
  const host = new URL(c.s3).host;
  await writeFile(
    join(work, 's3cfg'),
    [
      '[default]',
      `access_key = ${c.key.accessKeyId}`,
      `secret_key = ${c.key.secretAccessKey}`,
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
  if (c) await stopCluster(c.nodes);
  if (work) await rm(work, { recursive: true, force: true });
});

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

test('put, get (same bytes), ls, del', async () => {
  await okS3cmd(['mb', 's3://s3cmd-docs']);
  const small = join(work, 'small.txt');
  await writeFile(small, 'a small file for s3cmd\n');
  const big = join(work, 'big.bin');
  const bigSize = 12 * 1024 * 1024; // three parts of 5 MiB
  await pipeline(patternStream('s3cmd-big', bigSize), createWriteStream(big));

  await okS3cmd(['put', small, 's3://s3cmd-docs/notes/small.txt']);
  await okS3cmd(['put', big, 's3://s3cmd-docs/blobs/big.bin']);
  // s3cmd sent it in three parts: S3's multipart ETag
  const head = await send(c.s3, c.key, { method: 'HEAD', path: '/s3cmd-docs/blobs/big.bin' });
  expect(head.headers.etag).toMatch(/^"[0-9a-f]{32}-3"$/);

  const ls = (await okS3cmd(['ls', '-r', 's3://s3cmd-docs'])).stdout;
  expect(ls).toMatch(/\s23\s+s3:\/\/s3cmd-docs\/notes\/small\.txt/);
  expect(ls).toMatch(new RegExp(`\\s${bigSize}\\s+s3://s3cmd-docs/blobs/big\\.bin`));
  expect((await okS3cmd(['ls', 's3://s3cmd-docs'])).stdout).toMatch(
    /DIR\s+s3:\/\/s3cmd-docs\/blobs\//,
  );
  expect((await okS3cmd(['ls'])).stdout).toContain('s3://s3cmd-docs');

  const got = join(work, 'got.bin');
  await okS3cmd(['get', 's3://s3cmd-docs/blobs/big.bin', got]);
  expect(await sha256(got)).toBe(await patternSha256('s3cmd-big', bigSize));
  await okS3cmd(['get', 's3://s3cmd-docs/notes/small.txt', join(work, 'got.txt')]);
  expect(await sha256(join(work, 'got.txt'))).toBe(await sha256(small));
  // what s3cmd put is a cluster file that another node reads
  const elsewhere = await c.nodes[2]!.get('s3cmd-docs/blobs/big.bin');
  expect([elsewhere.status, elsewhere.sha256]).toEqual([200, await sha256(big)]);

  await okS3cmd(['del', 's3://s3cmd-docs/notes/small.txt']);
  await okS3cmd(['del', 's3://s3cmd-docs/blobs/big.bin']);
  expect((await okS3cmd(['ls', '-r', 's3://s3cmd-docs'])).stdout.trim()).toBe('');
  const missing = await s3cmd(['get', 's3://s3cmd-docs/notes/small.txt', join(work, 'x')]);
  expect(missing.code).not.toBe(0);
  expect(`${missing.stderr}${missing.stdout}`).toMatch(/404|NoSuchKey|does not exist/);
  expect((await c.nodes[1]!.get('s3cmd-docs/blobs/big.bin')).status).toBe(404);
  await okS3cmd(['rb', 's3://s3cmd-docs']);
  expect((await okS3cmd(['ls'])).stdout).not.toContain('s3://s3cmd-docs');
});
