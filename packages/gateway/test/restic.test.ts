// restic itself against the REST server: init, backup of a real tree (the repo's node_modules),
// snapshots, check --read-data, restore with a clean diff -r, forget --prune, append-only.

import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, run } from './clients.js';
import { DiskBackend } from './disk-backend.js';
import { type Gateway, startGateway } from './harness.js';
import { removeDir, tempDir } from './helpers.js';

// Every package of the workspace's store except four native binaries (~170 MiB of the 250):
// thousands of small files in deep folders, symlinks included, in a minute on a loaded CI box.
const TREE = resolve(import.meta.dirname, '../../../node_modules/.pnpm');
const EXCLUDES = [
  '@biomejs+cli-linux-*',
  '@turbo+linux-*',
  '@rolldown+binding-*',
  'lightningcss-linux-*',
];

describe('restic over the REST server', () => {
  let dir: string;
  let gw: Gateway;
  let env: Record<string, string>;
  let backend: DiskBackend;

  const restic = (args: string[], extra: Record<string, string> = {}) =>
    ok('restic', args, { env: { ...env, ...extra }, timeoutMs: 600_000 });

  beforeAll(async () => {
    dir = await tempDir('gateway-restic-');
    backend = await new DiskBackend({ root: join(dir, 'store') }).open();
    gw = await startGateway(backend, { keyFile: join(dir, 'keys.json') });
    const { port } = gw.restic;
    env = {
      RESTIC_PASSWORD: 'correct horse battery staple',
      RESTIC_REPOSITORY: `rest:http://${gw.accessKeyId}:${gw.secretAccessKey}@127.0.0.1:${port}/laptop/`,
      RESTIC_CACHE_DIR: join(dir, 'cache'),
    };
  });
  afterAll(async () => {
    await gw?.close();
    await removeDir(dir);
  });

  it('backs up, checks every byte, restores identically and prunes', async () => {
    await restic(['init']);
    const excludes = EXCLUDES.flatMap((e) => ['--exclude', e]);
    const first = await restic(['backup', '--json', ...excludes, TREE]);
    const summary = JSON.parse(first.stdout.trim().split('\n').at(-1)!);
    expect(summary.message_type).toBe('summary');
    expect(summary.total_files_processed).toBeGreaterThan(3000);

    // a second snapshot with one more file, so forget --prune has something to remove
    const extra = join(dir, 'extra');
    await mkdir(extra);
    await writeFile(join(extra, 'note.txt'), 'second snapshot\n');
    await restic(['backup', extra]);

    const snaps = JSON.parse((await restic(['snapshots', '--json'])).stdout);
    expect(snaps).toHaveLength(2);
    await restic(['check', '--read-data']);

    const target = join(dir, 'restore');
    await restic(['restore', snaps[0].short_id, '--target', target]);
    const skip = EXCLUDES.flatMap((e) => ['-x', e]);
    const diff = await run('diff', ['-r', '--no-dereference', ...skip, TREE, join(target, TREE)]);
    expect(diff).toEqual({ code: 0, stdout: '', stderr: '' });

    const before = await backend.bytesOnDisk();
    await restic(['forget', snaps[0].id, '--prune']);
    expect(await backend.bytesOnDisk()).toBeLessThan(before / 10);
    const after = JSON.parse((await restic(['snapshots', '--json'])).stdout);
    expect(after.map((s: { short_id: string }) => s.short_id)).toEqual([snaps[1].short_id]);
    await restic(['check']);
  }, 900_000);

  it('refuses a wrong password and another repository for a bucket-restricted key', async () => {
    const { port } = gw.restic;
    const bad = await run('restic', ['snapshots'], {
      env: {
        ...env,
        RESTIC_REPOSITORY: `rest:http://${gw.accessKeyId}:nope@127.0.0.1:${port}/laptop/`,
      },
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/401|[Uu]nauthorized/);
    const limited = await gw.keys.add({ bucket: 'other' });
    const denied = await run('restic', ['snapshots'], {
      env: {
        ...env,
        RESTIC_REPOSITORY: `rest:http://${limited.accessKeyId}:${limited.secretAccessKey}@127.0.0.1:${port}/laptop/`,
      },
    });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/403|[Ff]orbidden/);
  });
});

describe('restic with --append-only', () => {
  it('backs up and lists (locks come and go), but no snapshot or data file can be deleted', async () => {
    const dir = await tempDir('gateway-restic-ao-');
    const backend = await new DiskBackend({ root: join(dir, 'store') }).open();
    const gw = await startGateway(backend, { keyFile: join(dir, 'keys.json'), appendOnly: true });
    try {
      const env = {
        RESTIC_PASSWORD: 'pw',
        RESTIC_REPOSITORY: `rest:http://${gw.accessKeyId}:${gw.secretAccessKey}@127.0.0.1:${gw.restic.port}/`,
        RESTIC_CACHE_DIR: join(dir, 'cache'),
      };
      const src = join(dir, 'src');
      await mkdir(src);
      await writeFile(join(src, 'a.txt'), 'append only\n');
      await ok('restic', ['init'], { env });
      await ok('restic', ['backup', src], { env });
      await ok('restic', ['backup', src], { env });
      const snaps = JSON.parse((await ok('restic', ['snapshots', '--json'], { env })).stdout);
      expect(snaps).toHaveLength(2);
      // restic retries a refused delete for a minute, so the refusal is checked with one request
      const auth = `Basic ${Buffer.from(`${gw.accessKeyId}:${gw.secretAccessKey}`).toString('base64')}`;
      const del = await fetch(`${gw.restic.url}/snapshots/${snaps[0].id}`, {
        method: 'DELETE',
        headers: { authorization: auth },
      });
      expect(del.status).toBe(403);
      const cfg = await fetch(`${gw.restic.url}/config`, {
        method: 'DELETE',
        headers: { authorization: auth },
      });
      expect(cfg.status).toBe(403);
      // A snapshot uploaded again, as restic retries a save whose answer was lost: restic cannot
      // delete it first here, so the same bytes under their name must be accepted.
      const snapFile = `${gw.restic.url}/snapshots/${snaps[0].id}`;
      const body = Buffer.from(
        await (await fetch(snapFile, { headers: { authorization: auth } })).arrayBuffer(),
      );
      const again = await fetch(snapFile, {
        method: 'POST',
        headers: { authorization: auth },
        body,
      });
      expect(again.status).toBe(200);
      expect(
        (await fetch(snapFile, { method: 'POST', headers: { authorization: auth }, body: 'x' }))
          .status,
      ).toBe(403);
      expect(
        JSON.parse((await ok('restic', ['snapshots', '--json'], { env })).stdout),
      ).toHaveLength(2);
      await ok('restic', ['check'], { env });
    } finally {
      await gw.close();
      await removeDir(dir);
    }
  });
});
