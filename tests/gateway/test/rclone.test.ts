// rclone (S3 remote) against the S3 gateway of a real 3-node cluster (R=2): sync a small tree
// up (one file in multipart), check, sync down and diff, lsf -R, delete.
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ok, run } from '../../../packages/gateway/test/clients.js';
import { send } from '../../../packages/gateway/test/signer.js';
import { patternStream, stopCluster, tempDir } from '../../cluster/test/harness.js';
import { type GatewayCluster, startGatewayCluster } from './cluster.js';

let c: GatewayCluster;
let work: string;
let env: Record<string, string>;
const rclone = (args: string[]) =>
  ok('rclone', ['--config', join(work, 'rclone.conf'), ...args], { env, timeoutMs: 300_000 });

beforeAll(async () => {
  c = await startGatewayCluster();
  work = await tempDir('gw-rclone');
  await writeFile(join(work, 'rclone.conf'), '');
  env = {
    RCLONE_CONFIG_GW_TYPE: 's3',
    RCLONE_CONFIG_GW_PROVIDER: 'Other',
    RCLONE_CONFIG_GW_ACCESS_KEY_ID: c.key.accessKeyId,
    RCLONE_CONFIG_GW_SECRET_ACCESS_KEY: c.key.secretAccessKey,
    RCLONE_CONFIG_GW_ENDPOINT: c.s3,
    RCLONE_CONFIG_GW_REGION: 'us-east-1',
    // multipart from 5 MiB, so the one big file goes up in parts (rclone's default is 200 MiB)
    RCLONE_S3_UPLOAD_CUTOFF: '5M',
    RCLONE_S3_CHUNK_SIZE: '5M',
  };
});
afterAll(async () => {
  if (c) await stopCluster(c.nodes);
  if (work) await rm(work, { recursive: true, force: true });
});

/** 3 folders of 12 files (0 B to ~100 KiB), one with an odd name, and one of 11 MiB. */
async function makeTree(root: string): Promise<string[]> {
  const files: string[] = [];
  for (const d of ['a', 'a/deep/er', 'b c']) {
    await mkdir(join(root, d), { recursive: true });
    for (let i = 0; i < 12; i++) {
      const rel = `${d}/f${i}.bin`;
      await pipeline(patternStream(rel, i * 9_000), createWriteStream(join(root, rel)));
      files.push(rel);
    }
  }
  await writeFile(join(root, 'a/ünïcode + space.txt'), 'named oddly\n');
  files.push('a/ünïcode + space.txt');
  await pipeline(patternStream('big', 11 * 1024 * 1024), createWriteStream(join(root, 'big.bin')));
  files.push('big.bin');
  return files.sort();
}

test('sync up, check, sync down (diff clean), lsf -R, delete', async () => {
  const src = join(work, 'src');
  const files = await makeTree(src);
  await rclone(['sync', src, 'gw:backup/tree']);
  await rclone(['check', src, 'gw:backup/tree']);
  // a second sync has nothing to send
  const again = await rclone(['sync', src, 'gw:backup/tree', '--stats-one-line', '-v']);
  expect(again.stderr).toMatch(/There was nothing to transfer|Transferred:\s+0 B/);

  // it went up in three parts: S3's multipart ETag
  const head = await send(c.s3, c.key, { method: 'HEAD', path: '/backup/tree/big.bin' });
  expect(head.headers.etag).toMatch(/^"[0-9a-f]{32}-3"$/);
  // another node of the cluster holds the multipart object as one readable file
  const big = await c.nodes[1]!.get('backup/tree/big.bin');
  expect([big.status, big.size]).toEqual([200, 11 * 1024 * 1024]);

  const down = join(work, 'down');
  await rclone(['sync', 'gw:backup/tree', down]);
  expect(await run('diff', ['-r', src, down])).toEqual({ code: 0, stdout: '', stderr: '' });

  const listed = (await rclone(['lsf', '-R', '--files-only', 'gw:backup/tree'])).stdout
    .trim()
    .split('\n')
    .sort();
  expect(listed).toEqual(files);
  const dirs = (await rclone(['lsf', '-R', '--dirs-only', 'gw:backup/tree'])).stdout;
  expect(dirs.trim().split('\n').sort()).toEqual(['a/', 'a/deep/', 'a/deep/er/', 'b c/']);

  await rclone(['delete', 'gw:backup/tree/a']);
  const left = (await rclone(['lsf', '-R', '--files-only', 'gw:backup/tree'])).stdout;
  expect(left.trim().split('\n').sort()).toEqual(files.filter((f) => !f.startsWith('a/')));
  // deleted through S3 means deleted in the cluster
  expect((await c.nodes[2]!.get('backup/tree/a/f3.bin')).status).toBe(404);
  await rclone(['delete', 'gw:backup']);
  expect((await rclone(['lsf', '-R', 'gw:backup'])).stdout.trim()).toBe('');
});
