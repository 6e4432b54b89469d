// `peerstash keys export` end-to-end: the file it writes (mode 0600, no vault key with
// --storage-only), and a storage-only node made from it linking to the vault node.

import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NodeProcess, startNode, waitForPeers } from '../src/child-node.js';
import { EXIT } from '../src/exit-codes.js';
import { expectOneLine, runCli, tempDir } from './helpers.js';

let root = '';
let vault = '';
let own: { vaultKey: string; clusterSecret: string };

beforeAll(async () => {
  root = await tempDir('keys');
  vault = join(root, 'vault');
  expect((await runCli(['init', '--dir', vault, '--listen', '127.0.0.1:0'])).code).toBe(0);
  own = JSON.parse(await readFile(join(vault, 'keys.json'), 'utf8'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('keys export', () => {
  it('--storage-only -o: mode 0600, the cluster secret and no vault key', async () => {
    const file = join(root, 'storage-keys.json');
    const r = await runCli(['keys', 'export', '--storage-only', '-o', file, '--dir', vault]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      `wrote ${file} (mode 0600): the cluster secret only, for "peerstash init --join ${file} --storage-only"\n`,
    );
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      version: 1,
      clusterSecret: own.clusterSecret,
    });
  });

  it('without --storage-only, to stdout: the whole key file; --json needs -o', async () => {
    const r = await runCli(['keys', 'export', '--dir', vault]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ version: 1, ...own });
    const j = await runCli(['keys', 'export', '--json', '--dir', vault]);
    expect(j.code).toBe(EXIT.USAGE);
    const file = join(root, 'full.json');
    const ok = await runCli(['keys', 'export', '-o', file, '--json', '--dir', vault]);
    expect(JSON.parse(ok.stdout)).toEqual({ file, storageOnly: false });
  });

  it('never overwrites a file (exit 10); a node that is not there is exit 9', async () => {
    const file = join(root, 'taken.json');
    expect(
      (await runCli(['keys', 'export', '--storage-only', '-o', file, '--dir', vault])).code,
    ).toBe(0);
    const before = await readFile(file, 'utf8');
    const again = await runCli(['keys', 'export', '-o', file, '--dir', vault]);
    expect(again.code).toBe(EXIT.ALREADY_EXISTS);
    expect(expectOneLine(again.stderr)).toContain(`${file} already exists`);
    expect(await readFile(file, 'utf8')).toBe(before);
    const none = await runCli(['keys', 'export', '--dir', join(root, 'nothing')]);
    expect(none.code).toBe(EXIT.NOT_INITIALISED);
    expect((await runCli(['keys', '--dir', vault])).code).toBe(EXIT.USAGE);
  });

  it('a node joined from the exported file is storage-only and links to the vault node', async () => {
    const file = join(root, 'for-d.json');
    expect(
      (await runCli(['keys', 'export', '--storage-only', '-o', file, '--dir', vault])).code,
    ).toBe(0);
    const d = join(root, 'd');
    const init = await runCli([
      'init',
      '--dir',
      d,
      '--join',
      file,
      '--storage-only',
      '--listen',
      '127.0.0.1:0',
      '--json',
    ]);
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ storageOnly: true, warnings: [] });
    let a: NodeProcess | undefined;
    let s: NodeProcess | undefined;
    try {
      a = await startNode({ dir: vault, timeoutMs: 30_000 });
      s = await startNode({ dir: d, args: ['--bootstrap', a.listen], timeoutMs: 30_000 });
      await waitForPeers([a, s], 1, 30_000);
      expect(await s.client.status()).toMatchObject({ storageOnly: true, secure: true });
    } finally {
      await Promise.all([a?.stop(), s?.stop()]);
    }
  });
});
