import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareKeys } from './listing.js';
import { globToRegExp, type TreeEntry, walkTree } from './local-tree.js';

let root = '';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'peerstash-cli-tree-'));
  // names around '/' (0x2f) in byte order: '-' and '.' sort before it, '0' and 'é' after
  for (const f of [
    'a-b',
    'a.txt',
    'a/x',
    'a/y/z',
    'a0',
    'b/é',
    'b/e',
    'node_modules/m/x',
    'c/dist/x',
    'c/k.log',
  ]) {
    await mkdir(join(root, f, '..'), { recursive: true });
    await writeFile(join(root, f), f);
  }
  await symlink('/etc/passwd', join(root, 'link'));
  // a name that is not UTF-8 (Linux allows any bytes but '/' and NUL)
  await writeFile(Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x66, 0xff, 0x66])]), 'x');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function collect(opts = {}): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  for await (const e of walkTree(root, opts)) out.push(e);
  return out;
}

describe('walkTree', () => {
  it('yields files in the byte order of their keys, with size and time', async () => {
    const files = (await collect()).filter((e) => e.kind === 'file');
    const keys = files.map((e) => e.rel.join('/'));
    expect(keys).toEqual([...keys].sort(compareKeys));
    expect(keys).toEqual([
      'a-b',
      'a.txt',
      'a/x',
      'a/y/z',
      'a0',
      'b/e',
      'b/é',
      'c/dist/x',
      'c/k.log',
      'node_modules/m/x',
    ]);
    const first = files[0]!;
    expect(first.kind === 'file' && first.size).toBe(3);
    expect(first.kind === 'file' && first.mtimeMs).toBeGreaterThan(0);
  });

  it('reports a symlink and a name that is not UTF-8 instead of following or mangling them', async () => {
    const all = await collect();
    expect(all.find((e) => e.rel[0] === 'link')).toMatchObject({ kind: 'other', what: 'symlink' });
    expect(all.filter((e) => e.kind === 'bad-name')).toHaveLength(1);
  });

  it('leaves out excluded names at any depth', async () => {
    const files = (await collect({ exclude: ['node_modules', 'dist', '*.log'] }))
      .filter((e) => e.kind === 'file')
      .map((e) => e.rel.join('/'));
    expect(files).toEqual(['a-b', 'a.txt', 'a/x', 'a/y/z', 'a0', 'b/e', 'b/é']);
  });
});

describe('globToRegExp', () => {
  it('matches * and ? within a name, everything else literally', () => {
    expect(globToRegExp('*.log').test('k.log')).toBe(true);
    expect(globToRegExp('*.log').test('klog')).toBe(false);
    expect(globToRegExp('a?c').test('abc')).toBe(true);
    expect(globToRegExp('(x)').test('(x)')).toBe(true);
    expect(globToRegExp('dist').test('dist2')).toBe(false);
  });
});
