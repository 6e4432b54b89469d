// `peerstash init` end-to-end (the built binary, real temp dirs): what --join warns about, and
// key files the fileserver's parser refuses.

import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/exit-codes.js';
import { expectOneLine, runCli, tempDir } from './helpers.js';

let root = '';
let vault = '';

beforeAll(async () => {
  root = await tempDir('init');
  vault = join(root, 'vault');
  expect((await runCli(['init', '--dir', vault, '--listen', '127.0.0.1:0'])).code).toBe(0);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const warnings = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('peerstash: warning: '))
    .map((l) => l.slice('peerstash: warning: '.length));

describe('init --join', () => {
  it('--storage-only from a copied file that holds the vault key: warns the copy still has it', async () => {
    const copy = join(root, 'copied-keys.json');
    await copyFile(join(vault, 'keys.json'), copy);
    const dir = join(root, 'store');
    const r = await runCli([
      'init',
      '--dir',
      dir,
      '--join',
      copy,
      '--storage-only',
      '--listen',
      '127.0.0.1:0',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(warnings(r.stderr)).toEqual([
      `${copy} still holds the vault key: this node did not keep it, but whoever reads that copy can read every file; delete it ("shred -u ${copy}"), and copy the output of "peerstash keys export --storage-only" to storage-only machines instead`,
    ]);
    // the node itself kept only the cluster secret
    const kept = JSON.parse(await readFile(join(dir, 'keys.json'), 'utf8'));
    expect(Object.keys(kept).sort()).toEqual(['clusterSecret', 'version']);
    // --json carries the same warning in its answer, and stderr stays empty
    const j = await runCli([
      'init',
      '--dir',
      join(root, 'store-json'),
      '--join',
      copy,
      '--storage-only',
      '--listen',
      '127.0.0.1:0',
      '--json',
    ]);
    expect(j.code).toBe(0);
    expect(j.stderr).toBe('');
    expect(JSON.parse(j.stdout).warnings).toEqual([
      expect.stringContaining('still holds the vault key'),
    ]);
  });

  it("no warning for a file without the vault key, or for a node's own data dir", async () => {
    const exported = join(root, 'storage-keys.json');
    expect(
      (await runCli(['keys', 'export', '--storage-only', '-o', exported, '--dir', vault])).code,
    ).toBe(0);
    for (const from of [exported, vault]) {
      const dir = join(root, `quiet-${from === vault ? 'dir' : 'file'}`);
      const r = await runCli([
        'init',
        '--dir',
        dir,
        '--join',
        from,
        '--storage-only',
        '--listen',
        '127.0.0.1:0',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
    }
  });

  it('joining with the default loopback listen address: warns that other machines cannot reach it', async () => {
    const dir = join(root, 'loopback');
    const r = await runCli(['init', '--dir', dir, '--join', vault]);
    expect(r.code).toBe(0);
    expect(warnings(r.stderr)).toEqual([
      `this node will listen on 127.0.0.1:7400, a loopback address: nodes on other machines cannot reach it; give this machine's own address: "peerstash serve --listen <address>:7400", or set "listen" in ${join(dir, 'node.json')}`,
    ]);
    // a listen address given on purpose, even loopback, is not second-guessed
    const chosen = await runCli([
      'init',
      '--dir',
      join(root, 'chosen'),
      '--join',
      vault,
      '--listen',
      '127.0.0.1:7401',
    ]);
    expect(chosen.stderr).toBe('');
  });

  it('a damaged key file: exit 9, the parser names the field', async () => {
    const bad = join(root, 'short-key.json');
    await writeFile(
      bad,
      JSON.stringify({ version: 1, clusterSecret: Buffer.alloc(16).toString('base64') }),
    );
    const r = await runCli(['init', '--dir', join(root, 'x'), '--join', bad]);
    expect(r.code).toBe(EXIT.NOT_INITIALISED);
    expect(expectOneLine(r.stderr)).toBe(
      `peerstash: not a peerstash key file: ${bad}: clusterSecret must be 32 bytes; restore the key file from the node it was copied from`,
    );
    await writeFile(bad, '{ not json');
    const j = await runCli(['init', '--dir', join(root, 'x'), '--join', bad]);
    expect(j.code).toBe(EXIT.NOT_INITIALISED);
    expect(expectOneLine(j.stderr)).toContain('is not valid JSON');
  });
});
