// `put -r` and `get -r` end-to-end on a 3-node cluster: the repo's own packages/ folder up from
// one node and back down from another, `diff -r` clean; reruns skip; paths that are not paths refused.

import { execFile } from 'node:child_process';
import { appendFile, cp, mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/exit-codes.js';
import { useCluster } from './cluster.js';
import { clientBytes, expectOneLine, runCli, walk } from './helpers.js';

const PACKAGES = fileURLToPath(new URL('../../../packages', import.meta.url));
const LEFT_OUT = new Set(['node_modules', 'dist', '.turbo', 'coverage']);
const run = promisify(execFile);

const c = useCluster('put-tree', 3);
let tree = '';
let fileCount = 0;

beforeAll(async () => {
  // A still copy: other work in the repo (a build) must not change the tree mid-test.
  tree = join(c.root, 'packages');
  await cp(PACKAGES, tree, {
    recursive: true,
    filter: (src) => !LEFT_OUT.has(src.split('/').pop()!),
  });
  fileCount = (await walk(tree)).length;
  expect(fileCount).toBeGreaterThan(100);
});

const cli = (node: number, ...args: string[]) => runCli([...args, '--dir', c.dirs[node]!]);

describe('put -r / get -r', () => {
  it("the repo's packages/ folder: up from node 0, down from node 2, diff -r clean", async () => {
    const up = await cli(0, 'put', '-r', tree, '--prefix', 'src/', '--json');
    expect(up.code, up.stderr).toBe(0);
    const sum = JSON.parse(up.stdout);
    expect(sum).toMatchObject({ prefix: 'src/', uploaded: fileCount, skipped: 0, failed: 0 });
    const out = join(c.root, 'restored');
    const before = await clientBytes(c.nodes[2]!);
    const down = await cli(2, 'get', '-r', 'src', '-o', out, '--json');
    expect(down.code, down.stderr).toBe(0);
    // node 2 holds a copy of every file (R = 3): get -r read them all from its data dir
    expect(await clientBytes(c.nodes[2]!)).toBe(before);
    expect(JSON.parse(down.stdout)).toMatchObject({ written: fileCount, failed: 0 });
    const diff = await run('diff', ['-r', tree, out]).catch((e: { stdout: string }) => e);
    expect(diff.stdout).toBe('');
    // nothing half-written is left beside the files
    expect((await walk(out)).filter((f) => f.includes('peerstash-part'))).toEqual([]);
    // restored files carry the stored version's time
    const a = await stat(join(out, 'crypto', 'package.json'));
    expect(Math.abs(a.mtimeMs - Date.now())).toBeLessThan(10 * 60_000);
  });

  it('a rerun skips every file; a changed file is uploaded again; the human summary', async () => {
    const again = await cli(0, 'put', '-r', tree, '--prefix', 'src', '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ uploaded: 0, skipped: fileCount, failed: 0 });
    await appendFile(join(tree, 'crypto', 'package.json'), '\n');
    const one = await cli(1, 'put', '-r', tree, '--prefix', 'src/');
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(
      new RegExp(
        `^put -r src/: 1 uploaded \\(.+\\), ${fileCount - 1} skipped \\(unchanged\\), 0 failed in .+\\n$`,
      ),
    );
    // a tree restored by get -r has the stored times: putting it back moves nothing
    const out = join(c.root, 'restored-2');
    expect((await cli(1, 'get', '-r', 'src/', '-o', out)).code).toBe(0);
    const back = await cli(2, 'put', '-r', out, '--prefix', 'src/', '--json');
    expect(JSON.parse(back.stdout)).toMatchObject({ uploaded: 0, skipped: fileCount });
    const forced = await cli(
      2,
      'put',
      '-r',
      join(out, 'crypto'),
      '--prefix',
      'src/crypto',
      '--force',
      '--json',
    );
    expect(JSON.parse(forced.stdout).skipped).toBe(0);
  });

  it('--exclude, a symlink (skipped with a warning), nested folders and an empty one', async () => {
    const t = join(c.root, 'small');
    await mkdir(join(t, 'a', 'b', 'c'), { recursive: true });
    await mkdir(join(t, 'empty'));
    await writeFile(join(t, 'a', 'b', 'c', 'deep.txt'), 'deep');
    await writeFile(join(t, 'a', 'x.log'), 'log');
    await symlink('/etc/hostname', join(t, 'a', 'link'));
    const up = await cli(0, 'put', '-r', t, '--prefix', 'small/', '--exclude', '*.log', '--json');
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ uploaded: 1, skipped: 1 });
    expect(up.stderr).toContain('a symlink, not a file');
    const ls = await cli(1, 'ls', '-r', 'small');
    expect(ls.stdout).toBe('small/a/b/c/deep.txt\n');
  });

  it('get -r of nothing: exit 4; -r without -o, or of a file target: exit 2', async () => {
    const none = await cli(1, 'get', '-r', 'no-such-folder/', '-o', join(c.root, 'none'));
    expect(none.code).toBe(EXIT.NOT_FOUND);
    expectOneLine(none.stderr);
    const noOut = await cli(1, 'get', '-r', 'src/');
    expect(noOut.code).toBe(EXIT.USAGE);
    expect(expectOneLine(noOut.stderr)).toContain('-o <dir>');
    const file = join(c.root, 'a-file');
    await writeFile(file, 'x');
    expect((await cli(1, 'get', '-r', 'src/', '-o', file)).code).toBe(EXIT.USAGE);
    const notDir = await cli(0, 'put', '-r', file);
    expect(notDir.code).toBe(EXIT.USAGE);
    expect(expectOneLine(notDir.stderr)).toContain('is not a folder');
  });
});

describe('-r: keys are paths', () => {
  it("'..', empty segments and absolute paths are refused before anything moves: exit 2", async () => {
    const t = join(c.root, 'small');
    const cases = [
      ['put', '-r', t, '--prefix', '../up'],
      ['put', '-r', t, '--prefix', '/abs/'],
      ['put', '-r', t, '--prefix', 'a//b'],
      ['put', '-r', t, '--prefix', 'a/./b'],
      ['get', '-r', '../', '-o', join(c.root, 'x')],
      ['get', '-r', '/etc', '-o', join(c.root, 'x')],
      ['get', '-r', 'a//b', '-o', join(c.root, 'x')],
      ['rm', '-r', 'a/../b', '--yes'],
      ['rm', '-r', '/abs', '--yes'],
    ];
    for (const args of cases) {
      const r = await cli(0, ...args, '--json');
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(EXIT.USAGE);
      expect(JSON.parse(r.stderr).error).toMatchObject({ code: 'ERR_INVALID_PATH' });
      const human = await cli(0, ...args);
      expect(expectOneLine(human.stderr)).toMatch(/absolute path|empty segment|'\.\.?' segment/);
    }
    await expect(stat(join(c.root, 'x'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a stored key that is no clean path is refused by get -r; the others are written', async () => {
    // a plain put takes any key: a key with '..' can be in the vault
    for (const key of ['evil/ok.txt', 'evil/../../escaped.txt', 'evil/a//b']) {
      await c.nodes[0]!.client.put(key, Readable.from([Buffer.from(key)]), { size: key.length });
    }
    const out = join(c.root, 'evil-out', 'inner');
    const r = await cli(2, 'get', '-r', 'evil/', '-o', out);
    expect(r.code).toBe(EXIT.USAGE);
    // one line per refused key (in the order the pool finished them), then the run's line
    const errs = r.stderr.trim().split('\n');
    expect(errs).toHaveLength(3);
    expect(errs.slice(0, 2).sort()).toEqual([
      expect.stringContaining("'evil/../../escaped.txt' has a '..' segment"),
      expect.stringContaining("'evil/a//b' has an empty segment"),
    ]);
    expect(errs[2]).toMatch(/^peerstash: 2 of 3 files failed/);
    expect(r.stdout).toMatch(/1 written/);
    expect(await readdir(out)).toEqual(['ok.txt']);
    expect(await readdir(dirname(out))).toEqual(['inner']);
    await expect(stat(join(c.root, 'escaped.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
