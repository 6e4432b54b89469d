// restic and aws-cli against the gateways of a real 3-node cluster (R=2).
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { awsEnv, ok, run } from '../../../packages/gateway/test/clients.js';
import { patternStream, stopCluster, tempDir } from '../../cluster/test/harness.js';
import { type GatewayCluster, resticRepo, startGatewayCluster } from './cluster.js';

let c: GatewayCluster;
let work: string;

beforeAll(async () => {
  c = await startGatewayCluster();
  work = await tempDir('gw-work');
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

test('restic init, backup, snapshots, check --read-data, restore, forget --prune', async () => {
  const src = join(work, 'src');
  await mkdir(src, { recursive: true });
  for (let i = 0; i < 40; i++) {
    await pipeline(patternStream(`f${i}`, 1000 + i * 9000), createWriteStream(join(src, `f${i}`)));
  }
  const env = {
    RESTIC_REPOSITORY: resticRepo(c, 'r1'),
    RESTIC_PASSWORD: 'pw',
    RESTIC_CACHE_DIR: join(work, 'rc'),
  };
  await ok('restic', ['init'], { env });
  await ok('restic', ['backup', '--host', 'h', src], { env });
  await ok('restic', ['backup', '--host', 'h', src], { env });
  const snaps = JSON.parse(
    (await ok('restic', ['snapshots', '--json'], { env })).stdout,
  ) as unknown[];
  expect(snaps).toHaveLength(2);
  await ok('restic', ['check', '--read-data'], { env });
  const out = join(work, 'restored');
  await ok('restic', ['restore', 'latest', '--target', out], { env });
  const diff = await run('diff', ['-r', src, join(out, src)]);
  expect(diff.stdout + diff.stderr).toBe('');
  expect(diff.code).toBe(0);
  await ok('restic', ['forget', '--keep-last', '1', '--prune'], { env });
  const after = JSON.parse(
    (await ok('restic', ['snapshots', '--json'], { env })).stdout,
  ) as unknown[];
  expect(after).toHaveLength(1);
  await ok('restic', ['check', '--read-data'], { env });
});

test('aws-cli multipart cp of 300 MiB and back, ls, head-object, presigned GET, rm', async () => {
  const env = await awsEnv(work, c.key);
  const ep = ['--endpoint-url', c.s3];
  const big = join(work, 'big.bin');
  await pipeline(patternStream('big', 300 * 1024 * 1024), createWriteStream(big));
  await ok('aws', [...ep, 's3', 'mb', 's3://big-files'], { env });
  await ok('aws', [...ep, 's3', 'cp', big, 's3://big-files/dir/big.bin'], { env });
  const back = join(work, 'back.bin');
  await ok('aws', [...ep, 's3', 'cp', 's3://big-files/dir/big.bin', back], { env });
  expect(await sha256(back)).toBe(await sha256(big));
  const ls = await ok('aws', [...ep, 's3', 'ls', '--recursive', 's3://big-files'], { env });
  expect(ls.stdout).toContain('dir/big.bin');
  const head = await ok(
    'aws',
    [...ep, 's3api', 'head-object', '--bucket', 'big-files', '--key', 'dir/big.bin'],
    { env },
  );
  expect(JSON.parse(head.stdout).ContentLength).toBe(300 * 1024 * 1024);
  const url = (
    await ok('aws', [...ep, 's3', 'presign', 's3://big-files/dir/big.bin'], { env })
  ).stdout.trim();
  const viaCurl = join(work, 'curl.bin');
  await ok('curl', ['-sSf', '-o', viaCurl, url]);
  expect(await sha256(viaCurl)).toBe(await sha256(big));
  await ok('aws', [...ep, 's3', 'rm', 's3://big-files/dir/big.bin'], { env });
  const gone = await run(
    'aws',
    [...ep, 's3api', 'head-object', '--bucket', 'big-files', '--key', 'dir/big.bin'],
    { env },
  );
  expect(gone.code).not.toBe(0);
});
