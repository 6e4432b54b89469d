import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from 'interface-store';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CasStore } from '../cas-store.js';
import { CasBlockstore, DEFAULT_BLOCKSTORE_NAMESPACE } from './index.js';

const RAW = 0x55;
const DAG_PB = 0x70;
const code = (c: string) => expect.objectContaining({ code: c });

function sha256Cid(bytes: Uint8Array, codec = RAW, version: 0 | 1 = 1): CID {
  const mh = Digest.create(0x12, createHash('sha256').update(bytes).digest());
  return version === 0 ? CID.createV0(mh) : CID.create(version, codec, mh);
}

async function bytesOf(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of source) parts.push(c);
  return Buffer.concat(parts);
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

describe('CasBlockstore', () => {
  let dir: string;
  let root: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cas-blockstore-unit-'));
    root = join(dir, 'root');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('takes a Uint8Array, a sync iterable or an async iterable, and streams big blocks back', async () => {
    const store = new CasBlockstore({ root });
    const big = Buffer.alloc(3 * 1024 * 1024 + 5, 7);
    const cid = sha256Cid(big);
    async function* parts() {
      for (let off = 0; off < big.length; off += 100_000) yield big.subarray(off, off + 100_000);
    }
    expect(await store.put(cid, parts())).toBe(cid);
    const chunks: Uint8Array[] = [];
    for await (const c of store.get(cid)) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(1); // never one 3 MiB buffer
    expect(Buffer.concat(chunks).equals(big)).toBe(true);

    const a = Buffer.from('as one Uint8Array');
    const b = [Buffer.from('as a '), Buffer.from('sync iterable')];
    await store.put(sha256Cid(a), new Uint8Array(a));
    await store.put(sha256Cid(Buffer.concat(b)), b);
    expect((await bytesOf(store.get(sha256Cid(a)))).equals(a)).toBe(true);
    expect((await bytesOf(store.get(sha256Cid(Buffer.concat(b))))).toString()).toBe(
      'as a sync iterable',
    );
  });

  it('refuses bytes that do not hash to their sha2-256 CID, unless verify is off', async () => {
    const store = new CasBlockstore({ root });
    const cid = sha256Cid(Buffer.from('the real bytes'));
    await expect(store.put(cid, Buffer.from('other bytes'))).rejects.toEqual(code('ERR_INTEGRITY'));
    expect(await store.has(cid)).toBe(false);
    expect((await filesUnder(root)).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const lax = new CasBlockstore({ root, verify: false });
    await lax.put(cid, Buffer.from('other bytes'));
    expect((await bytesOf(lax.get(cid))).toString()).toBe('other bytes');
  });

  it('stores blocks of other hash functions (identity, sha2-512) unchecked', async () => {
    const store = new CasBlockstore({ root });
    const data = Buffer.from('inline');
    const identity = CID.createV1(RAW, Digest.create(0x00, data));
    const sha512 = CID.createV1(
      RAW,
      Digest.create(0x13, createHash('sha512').update(data).digest()),
    );
    await store.put(identity, data);
    await store.put(sha512, data);
    expect((await bytesOf(store.get(identity))).equals(data)).toBe(true);
    expect((await bytesOf(store.get(sha512))).equals(data)).toBe(true);
  });

  it('keys blocks by multihash: CIDv0 and CIDv1 meet, and getAll returns the CID last put', async () => {
    const store = new CasBlockstore({ root });
    const data = Buffer.from('a dag-pb node, say');
    const v0 = sha256Cid(data, DAG_PB, 0);
    const v1 = sha256Cid(data, DAG_PB, 1);
    await store.put(v0, data);
    expect(await store.has(v1)).toBe(true);
    expect(await store.has(sha256Cid(data, RAW))).toBe(true);
    let all = [];
    for await (const p of store.getAll()) all.push(p.cid.toString());
    expect(all).toEqual([v0.toString()]);
    await store.put(v1, data);
    all = [];
    for await (const p of store.getAll()) all.push(p.cid.toString());
    expect(all).toEqual([v1.toString()]);
    await store.delete(sha256Cid(data, RAW));
    expect(await store.has(v0)).toBe(false);
  });

  it("throws interface-store's NotFoundError for a missing block, only once it is read", async () => {
    const store = new CasBlockstore({ root });
    const cid = sha256Cid(Buffer.from('never put'));
    const gen = store.get(cid); // nothing happens yet
    const err = await bytesOf(gen).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ name: 'NotFoundError', code: 'ERR_NOT_FOUND' });
    await expect(store.delete(cid)).resolves.toBeUndefined(); // absent is not an error
  });

  it('rejects keys that are not CIDs and options out of range', async () => {
    const store = new CasBlockstore({ root });
    await expect(store.put('bafy' as never, Buffer.from('x'))).rejects.toEqual(
      code('ERR_INVALID_ARGUMENT'),
    );
    await expect(store.has({} as never)).rejects.toEqual(code('ERR_INVALID_ARGUMENT'));
    await expect(bytesOf(store.get(null as never))).rejects.toEqual(code('ERR_INVALID_ARGUMENT'));
    expect(() => new CasBlockstore({ root, namespace: 'blocks' })).toThrow(
      code('ERR_INVALID_ARGUMENT'),
    );
    expect(() => new CasBlockstore({ root, concurrency: 0 })).toThrow(code('ERR_INVALID_ARGUMENT'));
    expect(() => new CasBlockstore({ root: '' })).toThrow(code('ERR_INVALID_ARGUMENT'));
  });

  it('keeps namespaces apart and skips blobs in its namespace that are not blocks', async () => {
    const a = new CasBlockstore({ root });
    const b = new CasBlockstore({ root, namespace: 'b'.repeat(64) });
    const data = Buffer.from('only in a');
    await a.put(sha256Cid(data), data);
    expect(await b.has(sha256Cid(data))).toBe(false);
    const raw = new CasStore({ root });
    await raw.write(DEFAULT_BLOCKSTORE_NAMESPACE, 'a key that is no multihash', [data]);
    const cids = [];
    for await (const p of a.getAll()) cids.push(p.cid.toString());
    expect(cids).toEqual([sha256Cid(data).toString()]);
  });

  it('an abort mid-put keeps nothing; an aborted signal stops every call', async () => {
    const store = new CasBlockstore({ root });
    const ac = new AbortController();
    const cid = sha256Cid(Buffer.from('unused'));
    async function* slow() {
      yield Buffer.alloc(1024);
      ac.abort();
      yield Buffer.alloc(1024);
    }
    await expect(store.put(cid, slow(), { signal: ac.signal })).rejects.toEqual(
      code('ERR_ABORTED'),
    );
    expect(await store.has(cid)).toBe(false);
    expect((await filesUnder(root)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const signal = ac.signal;
    await expect(store.has(cid, { signal })).rejects.toEqual(code('ERR_ABORTED'));
    await expect(store.delete(cid, { signal })).rejects.toEqual(code('ERR_ABORTED'));
    await expect(bytesOf(store.getAll({ signal }) as never)).rejects.toEqual(code('ERR_ABORTED'));
  });

  it('opens itself on first use, sweeping what a crash left; close waits for puts in flight', async () => {
    const first = new CasBlockstore({ root });
    const data = Buffer.from('kept');
    await first.put(sha256Cid(data), data);
    const [metaDir] = (await readdir(root, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.parentPath);
    await writeFile(join(metaDir!, 'deadbeef.0123456789abcdef.blob.tmp'), 'half a write');

    const second = new CasBlockstore({ root }); // no open(): the first call does it
    expect(await second.has(sha256Cid(data))).toBe(true);
    expect((await filesUnder(root)).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const late = Buffer.from('late');
    async function* held() {
      await gate;
      yield late;
    }
    const putting = second.put(sha256Cid(late), held());
    let closed = false;
    const closing = second.close().then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(closed).toBe(false);
    release();
    await Promise.all([putting, closing]);
    expect(await new CasBlockstore({ root }).has(sha256Cid(late))).toBe(true);
  });
});
