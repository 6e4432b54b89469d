import { describe, expect, it } from 'vitest';
import { type ApiFile, filterRows, modifiedAt, readListing } from './listing';
import { baseName, breadcrumbs, uploadKey } from './paths';

const f = (key: string, size = 1) => ({ key, size, createdAt: 1, copies: 3 });

describe('folder listings', () => {
  it('derives folders from keys with / when the node ignores the delimiter', () => {
    const body = { files: [f('b.txt'), f('docs/a.md'), f('docs/sub/x'), f('a.txt'), f('zed/')] };
    const root = readListing(body, '');
    expect(root.serverFolders).toBe(false);
    expect(root.next).toBeNull();
    expect(root.rows.map((r) => `${r.kind}:${r.name}`)).toEqual([
      'folder:docs',
      'folder:zed',
      'file:a.txt',
      'file:b.txt',
    ]);
    const docs = readListing(body, 'docs/');
    expect(docs.rows.map((r) => `${r.kind}:${r.name}`)).toEqual(['folder:sub', 'file:a.md']);
    expect(docs.rows[0]).toMatchObject({ prefix: 'docs/sub/' });
    const zed = readListing(body, 'zed/');
    expect(zed.rows).toEqual([
      expect.objectContaining({ kind: 'file', key: 'zed/', name: '(empty)' }),
    ]);
  });

  it("uses the node's common prefixes and cursor when it answers with them", () => {
    const body = { files: [f('docs/a.md')], prefixes: ['docs/sub/', 'docs/more/'], next: 'c1' };
    const l = readListing(body, 'docs/');
    expect(l.serverFolders).toBe(true);
    expect(l.next).toBe('c1');
    expect(l.rows.map((r) => `${r.kind}:${r.name}`)).toEqual([
      'folder:more',
      'folder:sub',
      'file:a.md',
    ]);
    const s3 = readListing({ files: [], commonPrefixes: [{ prefix: 'x/' }], nextCursor: '' }, '');
    expect(s3.serverFolders).toBe(true);
    expect(s3.next).toBeNull();
    expect(s3.rows).toEqual([{ kind: 'folder', prefix: 'x/', name: 'x' }]);
  });

  it('reads the catalog contract: one folder, its prefixes, files with version and modified, a cursor', () => {
    const modified = Date.UTC(2026, 0, 2, 3, 4);
    const body = {
      files: [{ key: 'a/b/c.txt', size: 5, version: 'v7', modified, copies: 2 }],
      prefixes: ['a/b/d/'],
      next: 'a/b/c.txt',
    };
    const l = readListing(body, 'a/b/');
    expect(l).toMatchObject({ serverFolders: true, next: 'a/b/c.txt' });
    expect(l.rows).toEqual([
      { kind: 'folder', prefix: 'a/b/d/', name: 'd' },
      {
        kind: 'file',
        key: 'a/b/c.txt',
        name: 'c.txt',
        size: 5,
        version: 'v7',
        modified,
        copies: 2,
      },
    ]);
    expect(readListing({ ...body, next: null }, 'a/b/').next).toBeNull();
    const file = l.rows[1] as ApiFile;
    expect(modifiedAt(file)).toBe(modified);
    expect(modifiedAt({ ...file, modified: modified / 1000 })).toBe(modified);
    expect(modifiedAt({ ...file, modified: new Date(modified).toISOString() })).toBe(modified);
    expect(modifiedAt({ ...file, modified: String(modified) })).toBe(modified);
    expect(modifiedAt({ key: 'old', size: 1, createdAt: 42 })).toBe(42);
    expect(modifiedAt({ key: 'none', size: 1 })).toBeNaN();
  });

  it('skips malformed entries and filters by name ignoring case', () => {
    const l = readListing({ files: [f('Report.PDF'), { key: 3 }, null, f('notes')] }, '');
    expect(l.rows).toHaveLength(2);
    expect(filterRows(l.rows, 'report').map((r) => r.name)).toEqual(['Report.PDF']);
    expect(filterRows(l.rows, '  ')).toHaveLength(2);
    expect(readListing('garbage', '').rows).toEqual([]);
  });

  it('keeps a hostile name as data', () => {
    const name = '<img src=x onerror=alert(1)>';
    expect(readListing({ files: [f(name)] }, '').rows[0]!.name).toBe(name);
  });

  it('builds breadcrumbs, base names and upload keys', () => {
    expect(breadcrumbs('')).toEqual([{ label: 'All files', prefix: '' }]);
    expect(breadcrumbs('a/b c/')).toEqual([
      { label: 'All files', prefix: '' },
      { label: 'a', prefix: 'a/' },
      { label: 'b c', prefix: 'a/b c/' },
    ]);
    expect(baseName('a/b/c.txt')).toBe('c.txt');
    expect(baseName('a/b/')).toBe('b');
    expect(uploadKey('docs/', 'pics/x.png')).toBe('docs/pics/x.png');
    expect(uploadKey('', '/x')).toBe('x');
  });
});
