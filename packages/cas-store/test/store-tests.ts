// The store's contract suite: every behaviour callers rely on, run once per configuration
// (path transform) by `storeTests({ setup, teardown })`.

import { createReadStream } from 'node:fs';
import { readFile, truncate, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CasStore } from '../src/index.js';
import { chunked, collect, NS, NS2, pattern, sha256, walk, walkDirs } from './helpers.js';

export interface StoreFixture {
  store: CasStore;
  /** The store's root folder. */
  root: string;
  /** A folder that contains only the root, to check nothing is written beside it. */
  parent: string;
}

export interface StoreTestOptions {
  name: string;
  setup(): Promise<StoreFixture>;
  teardown(fixture: StoreFixture): Promise<void>;
}

const code = (c: string) => expect.objectContaining({ code: c });

export function storeTests({ name, setup, teardown }: StoreTestOptions): void {
  describe(`CasStore contract (${name})`, () => {
    let f: StoreFixture;
    let store: CasStore;

    beforeEach(async () => {
      f = await setup();
      store = f.store;
      await store.open();
    });
    afterEach(async () => {
      await teardown(f);
    });

    const readAll = async (ns: string, key: string) => collect((await store.read(ns, key)).stream);
    const onDisk = () => walk(f.root);

    it('writes and reads back bytes with size, digest, key and extra', async () => {
      const data = pattern(300_000);
      const before = Date.now();
      const res = await store.write(NS, 'hello', chunked(data), {
        extra: { name: 'sealed', n: 1 },
      });
      expect(res).toEqual({ size: data.length, digest: sha256(data) });
      const { stream, meta } = await store.read(NS, 'hello');
      expect((await collect(stream)).equals(data)).toBe(true);
      expect(meta).toMatchObject({
        namespace: NS,
        key: 'hello',
        size: data.length,
        digest: sha256(data),
      });
      expect(meta.extra).toEqual({ name: 'sealed', n: 1 });
      expect(meta.createdAt).toBeGreaterThanOrEqual(before);
      expect(await store.stat(NS, 'hello')).toEqual(meta);
      expect(await store.has(NS, 'hello')).toBe(true);
    });

    it('accepts Readables, async iterables, sync iterables and string chunks', async () => {
      const data = pattern(10_000, 7);
      await store.write(NS, 'readable', Readable.from([data.subarray(0, 5), data.subarray(5)]));
      await store.write(NS, 'iterable', [data.subarray(0, 100), data.subarray(100)]);
      await store.write(NS, 'strings', Readable.from(['héllo ', 'wörld'], { objectMode: true }));
      expect((await readAll(NS, 'readable')).equals(data)).toBe(true);
      expect((await readAll(NS, 'iterable')).equals(data)).toBe(true);
      expect((await readAll(NS, 'strings')).toString('utf8')).toBe('héllo wörld');
      await expect(store.write(NS, 'bad', [5 as unknown as Uint8Array])).rejects.toEqual(
        code('ERR_INVALID_ARGUMENT'),
      );
      await expect(store.write(NS, 'bad', 42 as never)).rejects.toEqual(
        code('ERR_INVALID_ARGUMENT'),
      );
      expect(await store.has(NS, 'bad')).toBe(false);
      expect((await onDisk()).filter((p) => p.endsWith('.tmp'))).toEqual([]);
    });

    it('stores an empty blob', async () => {
      const res = await store.write(NS, 'empty', []);
      expect(res).toEqual({ size: 0, digest: sha256(new Uint8Array()) });
      const { stream } = await store.read(NS, 'empty');
      expect(stream.readableObjectMode).toBe(false);
      expect((await collect(stream)).length).toBe(0);
    });

    it('overwrites a key with one complete new version and leaves no old blob behind', async () => {
      await store.write(NS, 'k', [pattern(5000, 1)]);
      await store.write(NS, 'k', [pattern(7000, 2)]);
      expect((await readAll(NS, 'k')).equals(pattern(7000, 2))).toBe(true);
      const files = await onDisk();
      expect(files.filter((p) => p.endsWith('.blob'))).toHaveLength(1);
      expect(files.filter((p) => p.endsWith('.meta.json'))).toHaveLength(1);
      expect(files).toHaveLength(2);
    });

    it('reports missing keys with ERR_NOT_FOUND / false', async () => {
      await expect(store.read(NS, 'nope')).rejects.toEqual(code('ERR_NOT_FOUND'));
      await expect(store.stat(NS, 'nope')).rejects.toEqual(code('ERR_NOT_FOUND'));
      expect(await store.has(NS, 'nope')).toBe(false);
      expect(await store.delete(NS, 'nope')).toBe(false);
    });

    it('keeps namespaces apart', async () => {
      await store.write(NS, 'k', [Buffer.from('one')]);
      await store.write(NS2, 'k', [Buffer.from('two')]);
      expect((await readAll(NS, 'k')).toString()).toBe('one');
      expect((await readAll(NS2, 'k')).toString()).toBe('two');
      expect(await store.namespaces()).toEqual([NS, NS2]);
      await store.delete(NS, 'k');
      expect(await store.has(NS2, 'k')).toBe(true);
    });

    it('treats path-like, huge and emoji keys as ordinary keys inside the root', async () => {
      const keys = [
        '../../x',
        '/etc/passwd',
        '..',
        'a\\b\0c',
        'k'.repeat(10_240),
        '🦄💾 files',
        ' ',
      ];
      for (const [i, key] of keys.entries()) await store.write(NS, key, [Buffer.from(`v${i}`)]);
      for (const [i, key] of keys.entries()) {
        expect((await readAll(NS, key)).toString()).toBe(`v${i}`);
      }
      const listed = [];
      for await (const m of store.list(NS)) listed.push(m.key);
      expect(listed.sort()).toEqual([...keys].sort());
      // Nothing beside the root; every file under <root>/<ns>/.
      expect(await walk(f.parent)).toEqual(
        (await onDisk()).map((p) => join(f.root.slice(f.parent.length + 1), p)),
      );
      for (const p of await onDisk()) expect(p.startsWith(`${NS}/`)).toBe(true);
    });

    it('rejects empty and malformed keys with ERR_INVALID_KEY', async () => {
      for (const key of ['', '\ud800', 5 as unknown as string]) {
        await expect(store.write(NS, key, [])).rejects.toEqual(code('ERR_INVALID_KEY'));
        await expect(store.read(NS, key)).rejects.toEqual(code('ERR_INVALID_KEY'));
        await expect(store.has(NS, key)).rejects.toEqual(code('ERR_INVALID_KEY'));
        await expect(store.stat(NS, key)).rejects.toEqual(code('ERR_INVALID_KEY'));
        await expect(store.delete(NS, key)).rejects.toEqual(code('ERR_INVALID_KEY'));
      }
    });

    it('rejects namespaces that are not 64 lowercase hex with ERR_INVALID_ARGUMENT', async () => {
      for (const ns of [
        '..',
        `../${'a'.repeat(61)}`,
        'A'.repeat(64),
        'a'.repeat(63),
        '',
        'g'.repeat(64),
      ]) {
        await expect(store.write(ns, 'k', [])).rejects.toEqual(code('ERR_INVALID_ARGUMENT'));
        await expect(store.read(ns, 'k')).rejects.toEqual(code('ERR_INVALID_ARGUMENT'));
        await expect(store.has(ns, 'k')).rejects.toEqual(code('ERR_INVALID_ARGUMENT'));
        await expect(store.delete(ns, 'k')).rejects.toEqual(code('ERR_INVALID_ARGUMENT'));
        await expect(store.list(ns).next()).rejects.toEqual(code('ERR_INVALID_ARGUMENT'));
      }
      expect(await onDisk()).toEqual([]);
    });

    it('checks expectedDigest: a match is kept, a mismatch keeps nothing and the old version', async () => {
      const data = pattern(100_000, 3);
      await store.write(NS, 'k', chunked(data), { expectedDigest: sha256(data).toUpperCase() });
      const other = pattern(50_000, 4);
      await expect(
        store.write(NS, 'k', chunked(other), { expectedDigest: sha256(data) }),
      ).rejects.toEqual(code('ERR_INTEGRITY'));
      expect((await readAll(NS, 'k')).equals(data)).toBe(true);
      await expect(
        store.write(NS, 'fresh', chunked(other), { expectedDigest: sha256(data) }),
      ).rejects.toEqual(code('ERR_INTEGRITY'));
      expect(await store.has(NS, 'fresh')).toBe(false);
      expect(await onDisk()).toHaveLength(2);
      await expect(store.write(NS, 'k', [], { expectedDigest: 'abc' })).rejects.toEqual(
        code('ERR_INVALID_ARGUMENT'),
      );
    });

    it('checks a late expectedDigest, asked only once the source has ended', async () => {
      const data = pattern(300_000, 9);
      let ended = false;
      async function* tracked(bytes: Buffer) {
        yield* chunked(bytes);
        ended = true;
      }
      let askedAfterEnd: boolean | undefined;
      await store.write(NS, 'k', tracked(data), {
        expectedDigest: async () => {
          askedAfterEnd = ended;
          return sha256(data);
        },
      });
      expect(askedAfterEnd).toBe(true);
      const other = pattern(70_000, 10);
      await expect(
        store.write(NS, 'k', chunked(other), { expectedDigest: () => sha256(data) }),
      ).rejects.toEqual(code('ERR_INTEGRITY'));
      const refused = Object.assign(new Error('no commit'), { code: 'E_NO_COMMIT' });
      await expect(
        store.write(NS, 'k', chunked(other), {
          expectedDigest: async () => {
            throw refused;
          },
        }),
      ).rejects.toBe(refused);
      await expect(
        store.write(NS, 'k', chunked(other), { expectedDigest: async () => 'abc' }),
      ).rejects.toEqual(code('ERR_INVALID_ARGUMENT'));
      // an abort does not wait for a digest that never comes
      const ac = new AbortController();
      const waiting = store.write(NS, 'k', chunked(other), {
        expectedDigest: () => new Promise<string>(() => {}),
        signal: ac.signal,
      });
      await sleep(100);
      ac.abort();
      await expect(waiting).rejects.toEqual(code('ERR_ABORTED'));
      expect((await readAll(NS, 'k')).equals(data)).toBe(true);
      expect(await onDisk()).toHaveLength(2);
    });

    it('a write with a signal does not hold on to the chunks it has written', async () => {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      const refs: WeakRef<Buffer>[] = [];
      let retained = -1;
      async function* source() {
        for (let i = 0; i < 48; i++) {
          const chunk = pattern(1024 * 1024, i + 1);
          refs.push(new WeakRef(chunk));
          yield chunk;
          if (i === 47) {
            // a write's chunks are garbage once written, even while the write goes on
            await sleep(10);
            gc();
            retained = refs.slice(0, 40).filter((r) => r.deref() !== undefined).length;
          }
        }
      }
      const ac = new AbortController();
      await store.write(NS, 'k', source(), { signal: ac.signal });
      expect(retained).toBeGreaterThanOrEqual(0);
      expect(retained).toBeLessThan(4);
    });

    it('round-trips any mix of small and large chunks (staging grows as needed)', async () => {
      const sizes = [1, 65_535, 1, 65_536, 100_000, 300_000, 5, 1_048_576, 7, 262_143, 3];
      const data = pattern(
        sizes.reduce((a, b) => a + b, 0),
        11,
      );
      async function* parts() {
        let off = 0;
        for (const n of sizes) {
          yield data.subarray(off, off + n);
          off += n;
        }
      }
      const { digest, size } = await store.write(NS, 'mix', parts());
      expect(size).toBe(data.length);
      expect(digest).toBe(sha256(data));
      expect((await readAll(NS, 'mix')).equals(data)).toBe(true);
    });

    it('rejects extra that is not a JSON object', async () => {
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      for (const extra of [circular, [1] as never, 'x' as never, { n: 1n }]) {
        await expect(store.write(NS, 'k', [], { extra })).rejects.toEqual(
          code('ERR_INVALID_ARGUMENT'),
        );
      }
      expect(await onDisk()).toEqual([]);
    });

    it('idle() waits for writes and deletes in progress, clean-up included', async () => {
      await store.idle(); // nothing in progress: resolves at once
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      async function* slow() {
        yield pattern(1024 * 1024, 3);
        await gate;
        yield pattern(1024, 4);
      }
      const ac = new AbortController();
      const aborted = store.write(NS, 'a', slow(), { signal: ac.signal });
      const finished = store.write(NS, 'b', slow());
      const removed = store.write(NS, 'c', [Buffer.from('c')]).then(() => store.delete(NS, 'c'));
      let idle = false;
      const waiting = store.idle().then(() => {
        idle = true;
      });
      await sleep(50);
      expect(idle).toBe(false);
      ac.abort();
      await expect(aborted).rejects.toEqual(code('ERR_ABORTED'));
      await sleep(20);
      expect(idle).toBe(false); // 'b' is still being written
      release();
      await waiting;
      // everything settled before idle() resolved: 'b' complete, 'a' gone without a trace
      expect(await store.has(NS, 'b')).toBe(true);
      expect(await store.has(NS, 'a')).toBe(false);
      await expect(finished).resolves.toMatchObject({ size: 1024 * 1024 + 1024 });
      await removed;
      await store.idle();
      expect((await onDisk()).filter((p) => p.endsWith('.tmp'))).toEqual([]);
      expect(await onDisk()).toHaveLength(2);
    });

    it('aborts a write whose source hangs, leaving no temp file and the old version', async () => {
      await store.write(NS, 'k', [Buffer.from('old')]);
      const ac = new AbortController();
      async function* hanging() {
        yield pattern(2 * 1024 * 1024, 5);
        await new Promise(() => {});
      }
      const p = store.write(NS, 'k', hanging(), { signal: ac.signal });
      await sleep(50);
      ac.abort();
      await expect(p).rejects.toEqual(code('ERR_ABORTED'));
      expect((await readAll(NS, 'k')).toString()).toBe('old');
      expect(await onDisk()).toHaveLength(2);
      await expect(
        store.write(NS, 'k2', [Buffer.from('x')], { signal: AbortSignal.abort() }),
      ).rejects.toEqual(code('ERR_ABORTED'));
      expect(await store.has(NS, 'k2')).toBe(false);
    });

    it('destroys a Readable source on abort and keeps nothing from a failing source', async () => {
      const ac = new AbortController();
      const src = new Readable({ read() {} });
      src.push(pattern(1000));
      const p = store.write(NS, 'k', src, { signal: ac.signal });
      await sleep(20);
      ac.abort();
      await expect(p).rejects.toEqual(code('ERR_ABORTED'));
      expect(src.destroyed).toBe(true);
      async function* failing() {
        yield pattern(3 * 1024 * 1024, 6);
        throw Object.assign(new Error('source broke'), { code: 'E_SOURCE' });
      }
      await expect(store.write(NS, 'k', failing())).rejects.toEqual(code('E_SOURCE'));
      expect(await onDisk()).toEqual([]);
      expect(await walkDirs(f.root)).toEqual([NS]);
    });

    it('a Readable source that fails before the copy starts rejects the write and crashes nothing', async () => {
      const missing = createReadStream(join(f.parent, 'no-such-file'));
      await expect(store.write(NS, 'k', missing)).rejects.toEqual(code('ENOENT'));
      const early = new Readable({ read() {} });
      early.destroy(Object.assign(new Error('source broke early'), { code: 'E_EARLY' }));
      await expect(store.write(NS, 'k', early)).rejects.toEqual(code('E_EARLY'));
      expect(await store.has(NS, 'k')).toBe(false);
      expect(await onDisk()).toEqual([]);
    });

    it('aborts a read stream with ERR_ABORTED', async () => {
      await store.write(NS, 'big', chunked(pattern(4 * 1024 * 1024, 8)));
      const ac = new AbortController();
      const { stream } = await store.read(NS, 'big', { signal: ac.signal });
      const got = collect(stream);
      ac.abort();
      await expect(got).rejects.toEqual(code('ERR_ABORTED'));
      await expect(store.read(NS, 'big', { signal: AbortSignal.abort() })).rejects.toEqual(
        code('ERR_ABORTED'),
      );
    });

    it('delete with ifMatch removes only that version of the key', async () => {
      await store.write(NS, 'v', [Buffer.from('one')]);
      const first = await store.stat(NS, 'v');
      await sleep(2); // a later commit time
      await store.write(NS, 'v', [Buffer.from('one')]); // same bytes, a newer version
      const second = await store.stat(NS, 'v');
      expect(second.createdAt).toBeGreaterThan(first.createdAt);
      expect(await store.delete(NS, 'v', { ifMatch: first })).toBe(false);
      expect(await store.has(NS, 'v')).toBe(true);
      expect(
        await store.delete(NS, 'v', {
          ifMatch: { digest: 'f'.repeat(64), createdAt: second.createdAt },
        }),
      ).toBe(false);
      expect(await store.delete(NS, 'v', { ifMatch: second })).toBe(true);
      expect(await store.has(NS, 'v')).toBe(false);
    });

    it('delete removes the pair and empty folders up to the namespace, not shared ones', async () => {
      await store.write(NS, 'a', [Buffer.from('a')]);
      await store.write(NS, 'b', [Buffer.from('b')]);
      expect(await store.delete(NS, 'a')).toBe(true);
      expect(await store.has(NS, 'a')).toBe(false);
      expect(await store.has(NS, 'b')).toBe(true);
      expect(await store.delete(NS, 'a')).toBe(false);
      expect(await store.delete(NS, 'b')).toBe(true);
      expect(await onDisk()).toEqual([]);
      expect(await walkDirs(f.root)).toEqual([NS]);
    });

    it('lists metadata with original keys, and clear() empties every namespace', async () => {
      const keys = Array.from({ length: 150 }, (_, i) => `file-${i}`);
      await Promise.all(
        keys.map((k, i) => store.write(NS, k, [Buffer.from(String(i))], { extra: { i } })),
      );
      await store.write(NS2, 'other', [Buffer.from('o')]);
      const seen = new Map<string, number>();
      for await (const m of store.list(NS)) {
        expect(m.namespace).toBe(NS);
        seen.set(m.key, m.extra?.i as number);
      }
      expect([...seen.keys()].sort()).toEqual([...keys].sort());
      for (const [k, i] of seen) expect(k).toBe(`file-${i}`);
      for await (const _ of store.list(NS)) break; // stopping early is fine
      const empty = [];
      for await (const m of store.list('c'.repeat(64))) empty.push(m);
      expect(empty).toEqual([]);
      await store.clear();
      expect(await store.namespaces()).toEqual([]);
      expect(await store.has(NS2, 'other')).toBe(false);
    });

    it('concurrent writes of one key: one complete version wins, no stray files', async () => {
      const versions = Array.from({ length: 6 }, (_, i) => pattern(1_500_000 + i * 1000, i + 10));
      await Promise.all(versions.map((v) => store.write(NS, 'race', chunked(v, 100_000))));
      const { stream, meta } = await store.read(NS, 'race');
      const got = await collect(stream);
      expect(versions.some((v) => v.equals(got))).toBe(true);
      expect(meta.digest).toBe(sha256(got));
      expect(meta.size).toBe(got.length);
      expect(await onDisk()).toHaveLength(2);
    });

    it('readers during overwrites see a whole old or new version, never a mix', async () => {
      const a = pattern(800_000, 21);
      const b = pattern(800_000, 22);
      await store.write(NS, 'k', [a]);
      const writes = (async () => {
        for (let i = 0; i < 8; i++) await store.write(NS, 'k', chunked(i % 2 ? a : b));
      })();
      const reads = (async () => {
        for (let i = 0; i < 20; i++) {
          const { stream, meta } = await store.read(NS, 'k');
          const got = await collect(stream);
          expect(got.equals(a) || got.equals(b)).toBe(true);
          expect(sha256(got)).toBe(meta.digest);
        }
      })();
      await Promise.all([writes, reads]);
      expect(await onDisk()).toHaveLength(2);
    });

    it('open() removes temp files, orphan blobs and broken metadata, keeping good pairs', async () => {
      for (const key of ['good', 'broken', 'orphaned'])
        await store.write(NS, key, [Buffer.from(key)]);
      const files = await onDisk();
      const records = new Map<string, { path: string; blob: string }>();
      for (const p of files.filter((x) => x.endsWith('.meta.json'))) {
        const r = JSON.parse(await readFile(join(f.root, p), 'utf8'));
        records.set(r.key, { path: p, blob: join(dirname(p), r.blob) });
      }
      const good = records.get('good')!;
      // A meta whose blob vanished, a blob whose meta vanished, leftovers of an interrupted write.
      await unlink(join(f.root, records.get('broken')!.blob));
      await unlink(join(f.root, records.get('orphaned')!.path));
      const dir = join(f.root, dirname(good.path));
      await writeFile(join(dir, 'x.0123456789abcdef.blob.tmp'), 'partial');
      await writeFile(join(dir, 'x.0123456789abcdef.meta.tmp'), '{');
      await writeFile(join(dir, 'y.meta.json'), 'not json');
      await writeFile(join(f.root, 'README.txt'), 'not ours');
      // A crash between renaming a new blob into place and committing its meta.
      const stem = good.blob.slice(0, -'.0123456789abcdef.blob'.length);
      await writeFile(join(f.root, `${stem}.fedcba9876543210.blob`), 'uncommitted');

      const report = await store.open();
      expect(report.removed).toBe(6);
      expect(await store.has(NS, 'good')).toBe(true);
      expect(await store.has(NS, 'broken')).toBe(false);
      expect(await store.has(NS, 'orphaned')).toBe(false);
      expect(await onDisk()).toEqual([good.blob, good.path, 'README.txt'].sort());
    });

    it('a write racing the clean-up of a failed write of the same key succeeds', async () => {
      // the failed write prunes the folders it made while the next one makes them again
      // (a get continuing a broken-off fetch from another peer does exactly this)
      for (let i = 0; i < 300; i++) {
        const broken = (async function* () {
          yield pattern(10);
          throw new Error('source broke');
        })();
        const first = store.write(NS, `k${i}`, broken).catch(() => {});
        await sleep(i % 3);
        await store.write(NS, `k${i}`, [pattern(5)]);
        await first;
      }
    });

    it('reads of a blob truncated behind its back fail with ERR_INTEGRITY', async () => {
      await store.write(NS, 'k', [pattern(1000)]);
      const blob = (await onDisk()).find((p) => p.endsWith('.blob'))!;
      await truncate(join(f.root, blob), 10);
      await expect(store.read(NS, 'k')).rejects.toEqual(code('ERR_INTEGRITY'));
    });

    it('round-trips arbitrary keys and bytes (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
          fc.uint8Array({ maxLength: 3000 }),
          async (key, bytes) => {
            await store.write(NS, key, [bytes]);
            const got = await readAll(NS, key);
            expect(got.equals(Buffer.from(bytes))).toBe(true);
            expect((await store.stat(NS, key)).key).toBe(key);
            expect(await store.delete(NS, key)).toBe(true);
            expect(await store.has(NS, key)).toBe(false);
          },
        ),
        { numRuns: 40 },
      );
      expect(await onDisk()).toEqual([]);
    });
  });
}
