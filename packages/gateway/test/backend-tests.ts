// The Backend contract the gateway relies on, as a suite any backend runs once per configuration
// (`backendTests({ name, setup, teardown })`): listing, cursors, ranges, attributes, atomicity.

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, ListOptions, ObjectInfo } from '../src/index.js';
import { collect, pattern } from './helpers.js';

export interface BackendFixture {
  backend: Backend;
  /** Every file or record the backend keeps, to check a failed write left nothing behind. */
  residue(): Promise<string[]>;
}

export interface BackendTestOptions {
  name: string;
  setup(): Promise<BackendFixture>;
  teardown(fixture: BackendFixture): Promise<void>;
}

const code = (c: string) => expect.objectContaining({ code: c });

async function* from(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
}

async function listAll(b: Backend, options: Omit<ListOptions, 'after'>) {
  const items: string[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await b.list({ ...options, after });
    const merged = [...page.entries.map((e) => e.key), ...page.prefixes].sort((a, c) =>
      Buffer.compare(Buffer.from(a), Buffer.from(c)),
    );
    items.push(...merged);
    if (!page.next) return items;
    after = page.next;
  }
  throw new Error('listing did not end');
}

export function backendTests({ name, setup, teardown }: BackendTestOptions): void {
  describe(`Backend contract (${name})`, () => {
    let f: BackendFixture;
    let b: Backend;

    beforeEach(async () => {
      f = await setup();
      b = f.backend;
    });
    afterEach(async () => {
      await teardown(f);
    });

    it('writes, stats, reads and deletes with attributes asked after the body', async () => {
      let seen = 0;
      const body = pattern(300_000, 3);
      const w = await b.write('bucket/a/b.bin', from(body.subarray(0, 1000), body.subarray(1000)), {
        attributes: () => {
          seen = 1;
          return { etag: createHash('md5').update(body).digest('hex'), 'x-amz-meta-k': 'v' };
        },
      });
      expect(seen).toBe(1);
      expect(w.size).toBe(body.length);
      const info = (await b.stat('bucket/a/b.bin')) as ObjectInfo;
      expect(info).toMatchObject({ key: 'bucket/a/b.bin', size: body.length, version: w.version });
      expect(info.attributes['x-amz-meta-k']).toBe('v');
      expect(Math.abs(info.modifiedAt - Date.now())).toBeLessThan(60_000);
      const r = await b.read('bucket/a/b.bin');
      expect((await collect(r.stream)).equals(body)).toBe(true);
      expect(r.info.version).toBe(w.version);
      expect(await b.delete('bucket/a/b.bin')).toBe(true);
      expect(await b.delete('bucket/a/b.bin')).toBe(false);
      expect(await b.stat('bucket/a/b.bin')).toBeUndefined();
      await expect(b.read('bucket/a/b.bin')).rejects.toEqual(code('ERR_NOT_FOUND'));
    });

    it('reads inclusive ranges at every boundary and refuses one past the end', async () => {
      const body = pattern(70_000, 5);
      await b.write('r', from(body));
      for (const [s, e] of [
        [0, 0],
        [0, 69_999],
        [69_999, 69_999],
        [65_535, 65_536],
        [10, 200_000],
      ] as const) {
        const r = await b.read('r', { range: { start: s, end: e } });
        expect((await collect(r.stream)).equals(body.subarray(s, e + 1))).toBe(true);
      }
      await expect(b.read('r', { range: { start: 70_000, end: 70_001 } })).rejects.toEqual(
        code('ERR_INVALID_RANGE'),
      );
    });

    it('keeps nothing when the source fails or the attributes callback throws', async () => {
      await b.write('keep', from('old'));
      const before = await f.residue();
      async function* failing() {
        yield Buffer.from('partial');
        throw Object.assign(new Error('client went away'), { code: 'ECONNRESET' });
      }
      await expect(b.write('keep', failing())).rejects.toThrow('client went away');
      await expect(
        b.write('keep', from('new'), {
          attributes: () => {
            throw Object.assign(new Error('bad digest'), { code: 'ERR_INTEGRITY' });
          },
        }),
      ).rejects.toEqual(code('ERR_INTEGRITY'));
      const ac = new AbortController();
      async function* slow() {
        yield Buffer.from('x');
        ac.abort();
        yield Buffer.from('y');
      }
      await expect(b.write('keep', slow(), { signal: ac.signal })).rejects.toBeDefined();
      expect((await collect((await b.read('keep')).stream)).toString()).toBe('old');
      expect(await f.residue()).toEqual(before);
    });

    it('an open read keeps its version while the key is overwritten', async () => {
      await b.write('v', from(pattern(1 << 20, 1)));
      const r = await b.read('v');
      await b.write('v', from('new'));
      expect((await collect(r.stream)).equals(pattern(1 << 20, 1))).toBe(true);
      expect((await collect((await b.read('v')).stream)).toString()).toBe('new');
    });

    it('lists in UTF-8 byte order with prefixes, delimiters and cursors that never repeat', async () => {
      const keys = [
        'a',
        'a/b',
        'a/c/d',
        'a/c/e',
        'a/f',
        'b/x',
        'é',
        '\u{1F600}',
        '\uFFFD',
        'a\u0000',
      ];
      for (const k of keys) await b.write(k, from(k));
      const order = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      expect(await listAll(b, { prefix: '', limit: 1 })).toEqual(order);
      expect(await listAll(b, { prefix: '', limit: 1000 })).toEqual(order);
      expect(await listAll(b, { prefix: 'a/', delimiter: '/', limit: 1 })).toEqual([
        'a/b',
        'a/c/',
        'a/f',
      ]);
      expect(await listAll(b, { prefix: '', delimiter: '/', limit: 2 })).toEqual(
        ['a', 'a/', 'a\u0000', 'b/', 'é', '\uFFFD', '\u{1F600}'].sort((x, y) =>
          Buffer.compare(Buffer.from(x), Buffer.from(y)),
        ),
      );
      const page = await b.list({ prefix: 'a/', after: 'a/c/', delimiter: '/', limit: 10 });
      expect(page.entries.map((e) => e.key)).toEqual(['a/f']);
      expect(page.prefixes).toEqual([]);
      expect(page.next).toBeUndefined();
      const sized = await b.list({ prefix: 'a/c/', limit: 10 });
      expect(sized.entries.map((e) => [e.key, e.size])).toEqual([
        ['a/c/d', 5],
        ['a/c/e', 5],
      ]);
    });

    it('pages any key set exactly (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.stringMatching(/^[ab/]{1,5}$/), { maxLength: 25 }),
          fc.integer({ min: 1, max: 7 }),
          fc.constantFrom('', 'a', 'a/', 'b/'),
          async (keys, limit, prefix) => {
            const all = await listAll(b, { prefix: '', limit: 1000 });
            for (const k of all) await b.delete(k);
            for (const k of keys) await b.write(k, from('x'));
            const want = new Set<string>();
            for (const k of keys) {
              if (!k.startsWith(prefix)) continue;
              const at = k.indexOf('/', prefix.length);
              want.add(at >= 0 ? k.slice(0, at + 1) : k);
            }
            const got = await listAll(b, { prefix, delimiter: '/', limit });
            expect(got).toEqual([...want].sort());
          },
        ),
        { numRuns: 40 },
      );
    });

    if (name.includes('compose')) {
      it('composes parts into one object, consuming them, with ranges across part edges', async () => {
        const p1 = pattern(100_000, 1);
        const p2 = pattern(50_000, 2);
        await b.write('.s3/parts/u/00001', from(p1));
        await b.write('.s3/parts/u/00002', from(p2));
        await b.compose!('bkt/big', ['.s3/parts/u/00001', '.s3/parts/u/00002'], {
          attributes: { etag: 'x-2' },
        });
        expect(await b.stat('.s3/parts/u/00001')).toBeUndefined();
        const all = Buffer.concat([p1, p2]);
        expect((await b.stat('bkt/big'))?.attributes.etag).toBe('x-2');
        expect((await collect((await b.read('bkt/big')).stream)).equals(all)).toBe(true);
        const r = await b.read('bkt/big', { range: { start: 99_990, end: 100_010 } });
        expect((await collect(r.stream)).equals(all.subarray(99_990, 100_011))).toBe(true);
        await b.delete('bkt/big');
        expect(await f.residue()).toEqual([]);
      });
    }
  });
}
