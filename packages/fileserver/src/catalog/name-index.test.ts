import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveNamespace, newEncryptionKey, sealedSize } from '@peerstash/crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from './catalog.js';
import { type ListQuery, LONG_NAME } from './name-index.js';

const vaultKey = newEncryptionKey();
const vault = { key: vaultKey, ns: deriveNamespace(vaultKey) };
let dir: string;
let c: Catalog;

const longA = `deep/${'x'.repeat(LONG_NAME)}/a`;
const longB = `deep/${'x'.repeat(LONG_NAME)}/b`;
// byte order is not UTF-16 order: U+1D11E sorts before U+FF5E in UTF-16, after it in UTF-8
const NAMES = [
  'a',
  'a/b',
  'a/b/c',
  'a/c',
  'a//d',
  'a/',
  'ab',
  'b/1',
  'b/2',
  'b/3/x',
  'é/1',
  '\u{ff5e}',
  '\u{1d11e}',
  'photos/2024/cat.jpg',
  'photos/2024/dog.jpg',
  'photos/2025/emu.jpg',
  'photos/readme',
  longA,
  longB,
  ...Array.from({ length: 150 }, (_, i) => `big/${String(i).padStart(3, '0')}`),
  ...Array.from({ length: 40 }, (_, i) => `mixed/${i % 3}/${i}`),
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'names-'));
  c = Catalog.open({ path: dir, nodeId: 'a'.repeat(64), vault });
  await Promise.all(
    NAMES.map((name) =>
      c.beginPut(name).commit({
        version: createHash('sha256').update(name).digest('hex'),
        size: name.length,
        sealedSize: sealedSize(name.length),
      }),
    ),
  );
});

afterAll(async () => {
  await c.close();
  await rm(dir, { recursive: true, force: true });
});

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** What a listing must return, computed the plain way: sort, filter, group. */
function model(q: ListQuery): string[] {
  const prefix = q.prefix ?? '';
  const items: string[] = [];
  for (const name of [...NAMES].sort(byBytes)) {
    if (!name.startsWith(prefix)) continue;
    let item = name;
    if (q.delimiter !== undefined) {
      const at = name.indexOf(q.delimiter, prefix.length);
      if (at >= 0 && Buffer.byteLength(name.slice(0, at + q.delimiter.length)) <= LONG_NAME) {
        item = name.slice(0, at + q.delimiter.length);
      }
    }
    if (items.at(-1) !== item) items.push(item);
  }
  return items;
}

/** Pages through a listing with `next`, returning every item in the order given. */
function pages(q: ListQuery): { items: string[]; pages: number } {
  const items: string[] = [];
  let after: string | undefined;
  let n = 0;
  for (;;) {
    const page = c.list({ ...q, ...(after !== undefined ? { after } : {}) });
    n++;
    const merged = [...page.entries.map((e) => e.name), ...page.prefixes].sort(byBytes);
    expect(merged.length).toBeLessThanOrEqual(q.limit ?? 1000);
    items.push(...merged);
    if (page.next === undefined) return { items, pages: n };
    expect(page.next).toBe(merged.at(-1));
    after = page.next;
  }
}

describe('name index listing', () => {
  it('lists folders once as common prefixes, in UTF-8 byte order', () => {
    const root = c.list({ delimiter: '/' });
    expect(root.prefixes).toEqual(['a/', 'b/', 'big/', 'deep/', 'mixed/', 'photos/', 'é/']);
    expect(root.entries.map((e) => e.name)).toEqual(['a', 'ab', '\u{ff5e}', '\u{1d11e}']);
    const photos = c.list({ prefix: 'photos/', delimiter: '/' });
    expect(photos.prefixes).toEqual(['photos/2024/', 'photos/2025/']);
    expect(photos.entries).toEqual([
      expect.objectContaining({ name: 'photos/readme', size: 13, sealedSize: sealedSize(13) }),
    ]);
    // a key ending in the delimiter and an empty segment group like any other
    expect(c.list({ prefix: 'a/', delimiter: '/' })).toMatchObject({
      prefixes: ['a//', 'a/b/'],
      entries: [{ name: 'a/' }, { name: 'a/b' }, { name: 'a/c' }],
    });
  });

  it('pages a folder with a cursor: every name once, nothing skipped', () => {
    const { items, pages: n } = pages({ prefix: 'big/', limit: 40 });
    expect(items).toEqual(model({ prefix: 'big/' }));
    expect(n).toBe(4);
    const folders = pages({ prefix: 'mixed/', delimiter: '/', limit: 1 });
    expect(folders.items).toEqual(['mixed/0/', 'mixed/1/', 'mixed/2/']);
  });

  it('resumes after a folder by skipping all of it, also from a name inside it', () => {
    expect(c.list({ delimiter: '/', after: 'big/' }).prefixes[0]).toBe('deep/');
    expect(c.list({ delimiter: '/', after: 'big/077' }).prefixes[0]).toBe('deep/');
    expect(
      c.list({ prefix: 'big/', after: 'big/077', limit: 2 }).entries.map((e) => e.name),
    ).toEqual(['big/078', 'big/079']);
    expect(c.list({ after: '\u{ffff}' }).entries.map((e) => e.name)).toEqual(['\u{1d11e}']);
    expect(c.list({ after: '\u{10ffff}' })).toEqual({ entries: [], prefixes: [] });
  });

  it('keys longer than the LMDB key limit are listed whole; their deep folder is not grouped', () => {
    expect(c.list({ prefix: 'deep/' }).entries.map((e) => e.name)).toEqual(
      [longA, longB].sort(byBytes),
    );
    expect(
      c
        .list({ prefix: 'deep/', delimiter: '/' })
        .entries.map((e) => e.name)
        .sort(),
    ).toEqual([longA, longB].sort());
    expect(c.list({ prefix: longA }).entries.map((e) => e.name)).toEqual([longA]);
    expect(c.entry(longB)?.name).toBe(longB);
  });

  it('refuses a bad limit or delimiter with ERR_INVALID_ARGUMENT', () => {
    for (const q of [{ limit: 0 }, { limit: 10_001 }, { limit: 1.5 }, { delimiter: '' }]) {
      expect(() => c.list(q)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
  });

  it('matches the plain sort-filter-group model for any prefix, delimiter and page size (property)', () => {
    const prefixes = [
      '',
      'a',
      'a/',
      'a/b',
      'b/',
      'big/1',
      'mixed/',
      'mixed/1/',
      'photos/2',
      'zz',
      'é',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...prefixes),
        fc.constantFrom(undefined, '/', 'b', '/2'),
        fc.integer({ min: 1, max: 25 }),
        (prefix, delimiter, limit) => {
          const q: ListQuery = { prefix, limit, ...(delimiter !== undefined ? { delimiter } : {}) };
          expect(pages(q).items).toEqual(model(q));
        },
      ),
      { numRuns: 200 },
    );
  });
});
