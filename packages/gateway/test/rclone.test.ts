// rclone (S3 remote, provider Other) against the S3 server: sync a real tree up (small files and
// multipart ones), check, sync down and diff, lsf -R, delete, purge.

import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, run } from './clients.js';
import { DiskBackend } from './disk-backend.js';
import { type Gateway, startGateway } from './harness.js';
import { removeDir, tempDir } from './helpers.js';

// 1,175 small files (@smithy/core) and 132 of mixed sizes, two over 5 MiB (typescript).
const PNPM = resolve(import.meta.dirname, '../../../node_modules/.pnpm');
const TREES = {
  core: join(PNPM, '@smithy+core@3.41.1/node_modules/@smithy/core'),
  ts: join(PNPM, 'typescript@5.9.3/node_modules/typescript'),
};

describe('rclone over the S3 server', () => {
  let dir: string;
  let gw: Gateway;
  let env: Record<string, string>;
  const rclone = (args: string[]) =>
    ok('rclone', ['--config', join(dir, 'rclone.conf'), ...args], { env, timeoutMs: 600_000 });

  beforeAll(async () => {
    dir = await tempDir('gateway-rclone-');
    const backend = await new DiskBackend({ root: join(dir, 'store') }).open();
    gw = await startGateway(backend, { keyFile: join(dir, 'keys.json') });
    await writeFile(join(dir, 'rclone.conf'), '');
    env = {
      RCLONE_CONFIG_GW_TYPE: 's3',
      RCLONE_CONFIG_GW_PROVIDER: 'Other',
      RCLONE_CONFIG_GW_ACCESS_KEY_ID: gw.accessKeyId,
      RCLONE_CONFIG_GW_SECRET_ACCESS_KEY: gw.secretAccessKey,
      RCLONE_CONFIG_GW_ENDPOINT: gw.s3.url,
      RCLONE_CONFIG_GW_REGION: 'us-east-1',
      // multipart from 5 MiB, so the two big files go up in parts (rclone's default is 200 MiB)
      RCLONE_S3_UPLOAD_CUTOFF: '5M',
      RCLONE_S3_CHUNK_SIZE: '5M',
    };
  });
  afterAll(async () => {
    await gw?.close();
    await removeDir(dir);
  });

  it('syncs a tree up, checks it, syncs it down identically, lists and deletes it', async () => {
    for (const [name, path] of Object.entries(TREES))
      await rclone(['sync', path, `gw:backup/${name}`]);
    for (const [name, path] of Object.entries(TREES))
      await rclone(['check', path, `gw:backup/${name}`]);
    // a second sync transfers nothing
    const again = await rclone(['sync', TREES.ts, 'gw:backup/ts', '--stats-one-line', '-v']);
    expect(again.stderr).toMatch(/There was nothing to transfer|Transferred:\s+0 B/);

    const down = join(dir, 'down');
    await rclone(['sync', 'gw:backup', down]);
    for (const [name, path] of Object.entries(TREES)) {
      expect(await run('diff', ['-r', path, join(down, name)])).toEqual({
        code: 0,
        stdout: '',
        stderr: '',
      });
    }

    const listed = (await rclone(['lsf', '-R', '--files-only', 'gw:backup'])).stdout
      .trim()
      .split('\n');
    const local = (await ok('find', ['.', '-type', 'f'], { cwd: down })).stdout
      .trim()
      .split('\n')
      .map((p) => p.slice(2));
    expect(listed.sort()).toEqual(local.sort());
    expect(listed.length).toBeGreaterThan(1300);
    // the multipart objects carry rclone's own MD5 metadata, which check used above
    const big = (await rclone(['lsjson', '--hash', 'gw:backup/ts/lib/typescript.js'])).stdout;
    expect(JSON.parse(big)[0].Hashes.md5).toMatch(/^[0-9a-f]{32}$/);

    await rclone(['delete', 'gw:backup/core']);
    expect((await rclone(['lsf', '-R', 'gw:backup/core'])).stdout.trim()).toBe('');
    expect((await rclone(['lsf', 'gw:backup'])).stdout.trim()).toBe('ts/');
    await rclone(['purge', 'gw:backup']);
    expect((await rclone(['lsf', 'gw:'])).stdout).not.toContain('backup');
  }, 900_000);
});
