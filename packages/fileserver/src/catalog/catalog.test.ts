import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveFileId, deriveNamespace, newEncryptionKey, sealedSize } from '@peerstash/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog, type CatalogOptions } from './catalog.js';
import { encodeRecord, makePutRecord } from './record.js';
import { HASH_BYTES, sumKey } from './summary-tree.js';

const vaultKey = newEncryptionKey();
const vault = { key: vaultKey, ns: deriveNamespace(vaultKey) };
const NODE_A = 'a'.repeat(64);
const NODE_B = 'b'.repeat(64);
const DAY = 24 * 3600 * 1000;
const dirs: string[] = [];
const open: Catalog[] = [];

afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function catalog(options: Partial<CatalogOptions> = {}, dir?: string): Promise<Catalog> {
  const path = dir ?? (await mkdtemp(join(tmpdir(), 'catalog-')));
  if (!dir) dirs.push(path);
  const c = Catalog.open({ path, nodeId: NODE_A, vault, ...options });
  open.push(c);
  return c;
}

async function closeAll(...cs: Catalog[]) {
  for (const c of cs) {
    open.splice(open.indexOf(c), 1);
    await c.close();
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest('hex');

async function put(c: Catalog, key: string, size = 100, attributes = {}) {
  return c.beginPut(key, { attributes }).commit({
    version: digest(`${key}:${size}:${Math.random()}`),
    size,
    sealedSize: sealedSize(size),
  });
}

describe('Catalog: writes and reads', () => {
  it('commits a put, then stats, lists and counts it', async () => {
    const c = await catalog();
    const pending = c.beginPut('docs/report.pdf', {
      attributes: { 'content-type': 'application/pdf' },
    });
    // known only once the body is read, as an ETag computed while streaming would be
    pending.set('etag', '"5d41402abc4b2a76b9719d911017c592"');
    const done = await pending.commit({
      version: digest('v1'),
      size: 5,
      sealedSize: sealedSize(5),
      held: true,
    });
    expect(done.result).toEqual({ outcome: 'applied' });
    expect(c.holdings.get(vault.ns, done.record.id)).toMatchObject({
      version: digest('v1'),
      size: 5,
    });
    expect(c.stat('docs/report.pdf')).toMatchObject({
      name: 'docs/report.pdf',
      id: deriveFileId(vaultKey, 'docs/report.pdf'),
      version: digest('v1'),
      size: 5,
      sealedSize: sealedSize(5),
      attributes: { 'content-type': 'application/pdf', etag: '"5d41402abc4b2a76b9719d911017c592"' },
    });
    expect(c.list({ prefix: 'docs/' }).entries.map((e) => e.name)).toEqual(['docs/report.pdf']);
    expect(c.counts()).toMatchObject({ files: 1, bytes: 5, tombstones: 0 });
    await expect(
      pending.commit({ version: digest('v1'), size: 5, sealedSize: sealedSize(5) }),
    ).rejects.toMatchObject({
      code: 'ERR_BAD_RECORD',
    });
  });

  it('refuses attributes past 4 KiB before any byte of the body is read', async () => {
    const c = await catalog();
    expect(() => c.beginPut('k', { attributes: { big: 'x'.repeat(5000) } })).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_RECORD' }),
    );
    const p = c.beginPut('k', { attributes: { a: 'x'.repeat(3000) } });
    expect(() => p.set('b', 'y'.repeat(2000))).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_RECORD' }),
    );
    expect(p.attributes).toEqual({ a: 'x'.repeat(3000) });
    expect(() => c.beginPut('', {})).toThrow(expect.objectContaining({ code: 'ERR_INVALID_KEY' }));
  });

  it('a later put replaces the version; a delete hides it; an older put never brings it back', async () => {
    const c = await catalog();
    const first = await put(c, 'k', 10);
    const second = await put(c, 'k', 20);
    expect(c.stat('k')?.version).toBe(second.record.version);
    expect(c.counts()).toMatchObject({ files: 1, bytes: 20 });
    expect(await c.apply(first.encoded)).toEqual({ outcome: 'kept' });
    const gone = await c.delete('k');
    expect(gone.existed).toBe(true);
    expect(c.stat('k')).toBeUndefined();
    expect(c.get(vault.ns, second.record.id)?.deleted).toBe(true);
    expect(c.list().entries).toEqual([]);
    expect(c.counts()).toMatchObject({ files: 0, bytes: 0, tombstones: 1 });
    expect(await c.apply(second.encoded)).toEqual({ outcome: 'kept' });
    expect(c.stat('k')).toBeUndefined();
    const again = await put(c, 'k', 30);
    expect(c.stat('k')?.version).toBe(again.record.version);
    expect(c.counts()).toMatchObject({ files: 1, bytes: 30, tombstones: 0 });
  });

  it('concurrent puts of one key on two nodes: both pick the same winner, in any order', async () => {
    const a = await catalog({ nodeId: NODE_A });
    const b = await catalog({ nodeId: NODE_B });
    const fromA = await put(a, 'shared', 1);
    const fromB = await put(b, 'shared', 2);
    expect((await a.apply(fromB.encoded)).outcome).not.toBe('refused');
    expect((await b.apply(fromA.encoded)).outcome).not.toBe('refused');
    expect(a.stat('shared')?.version).toBe(b.stat('shared')?.version);
    expect(a.hash(vault.ns, fromA.record.id)?.equals(b.hash(vault.ns, fromA.record.id)!)).toBe(
      true,
    );
    expect(Buffer.from(a.roots()[0]!.root).equals(Buffer.from(b.roots()[0]!.root))).toBe(true);
  });

  it('refuses bad bytes, a name that is not the id, and a clock too far ahead — storing nothing', async () => {
    let now = 1_000_000;
    const c = await catalog({ now: () => now, maxDriftMs: 1000 });
    expect(await c.apply(randomBytes(40))).toMatchObject({
      outcome: 'refused',
      code: 'ERR_BAD_RECORD',
    });
    const real = makePutRecord(vault, {
      key: 'a',
      version: digest('a'),
      size: 1,
      sealedSize: sealedSize(1),
      hlc: { wall: now, counter: 0, node: NODE_B },
    });
    const other = makePutRecord(vault, {
      key: 'b',
      version: digest('b'),
      size: 1,
      sealedSize: sealedSize(1),
      hlc: { wall: now, counter: 0, node: NODE_B },
    });
    expect(await c.apply({ ...real, name: other.name })).toMatchObject({
      outcome: 'refused',
      code: 'ERR_BAD_RECORD',
    });
    const ahead = { ...real, hlc: { ...real.hlc, wall: now + 5000 } };
    expect(await c.apply(ahead)).toMatchObject({ outcome: 'refused', code: 'ERR_CLOCK_DRIFT' });
    expect(c.counts().files).toBe(0);
    expect(c.clock.now().wall).toBe(now); // the refused clock did not move ours
    now += 4500; // our clock caught up: the same record is accepted (as anti-entropy will retry it)
    expect(await c.apply(encodeRecord(ahead))).toEqual({ outcome: 'applied' });
    expect(c.stat('a')?.modified).toBe(1_005_000);
  });
});

describe('Catalog: storage-only nodes', () => {
  it('keeps sealed records and counts, never a plaintext name (the db files are scanned)', async () => {
    const name = `very-secret-plan-${randomBytes(8).toString('hex')}.txt`;
    const writer = await catalog();
    const relay = await catalog({ nodeId: NODE_B, vault: undefined });
    const done = await put(writer, `folder/${name}`, 42);
    expect(await relay.apply(done.encoded)).toEqual({ outcome: 'applied' });
    expect(relay.counts()).toMatchObject({ files: 1, bytes: 42 });
    expect(relay.get(vault.ns, done.record.id)?.version).toBe(done.record.version);
    const relayed = relay.encoded(vault.ns, [done.record.id]);
    expect(relayed.length).toBe(1);
    expect(relayed[0]!.equals(done.encoded)).toBe(true); // byte for byte what the writer sent
    expect(() => relay.list()).toThrow(expect.objectContaining({ code: 'ERR_NO_VAULT_KEY' }));
    expect(() => relay.stat(name)).toThrow(expect.objectContaining({ code: 'ERR_NO_VAULT_KEY' }));
    await closeAll(writer, relay);
    const scan = async (dir: string) => {
      let found = false;
      for (const f of await readdir(dir)) {
        if ((await readFile(join(dir, f))).includes(Buffer.from(name))) found = true;
      }
      return found;
    };
    expect(await scan(dirs[1]!)).toBe(false);
    expect(await scan(dirs[0]!)).toBe(true); // the scan finds it where it is: the vault node's index
  });
});

describe('Catalog: restart', () => {
  it('keeps records, counters and clock across a clean close; asks for a walk after an unclean one', async () => {
    const path = await mkdtemp(join(tmpdir(), 'catalog-'));
    dirs.push(path);
    const first = await catalog({}, path);
    expect(first.needsWalk).toBe(true); // new: holdings may lag blobs from before the catalog
    await put(first, 'a/1', 7);
    await first.holdings.add({
      ns: vault.ns,
      id: 'c'.repeat(64),
      version: digest('h'),
      size: 7,
      sealedSize: sealedSize(7),
      at: 1,
    });
    const last = first.clock.now();
    await closeAll(first);
    const second = await catalog({ now: () => 0 }, path); // even with a clock set back to 1970
    expect(second.needsWalk).toBe(false);
    expect(second.counts()).toMatchObject({
      files: 1,
      bytes: 7,
      held: { blobs: 1, bytes: sealedSize(7) },
    });
    expect(second.stat('a/1')?.size).toBe(7);
    expect(second.clock.now().wall).toBeGreaterThanOrEqual(last.wall);
    // a second opener while this one still runs sees what a restart after a crash sees
    const crashed = await catalog({}, path);
    expect(crashed.needsWalk).toBe(true);
  });
});

describe('Catalog: tombstone expiry and the stale-record rule', () => {
  it('prunes tombstones past the TTL, then refuses the old version coming back', async () => {
    let now = 100 * DAY;
    const c = await catalog({ now: () => now, tombstoneTtlMs: 7 * DAY });
    const old = await put(c, 'k', 5);
    await c.delete('k');
    now += 6 * DAY;
    expect(await c.prune()).toBe(0);
    now += 2 * DAY;
    expect(await c.prune()).toBe(1);
    expect(c.counts()).toMatchObject({ files: 0, tombstones: 0 });
    expect(c.get(vault.ns, old.record.id)).toBeUndefined();
    expect(c.roots()[0]!.pruned).toBe(100 * DAY);
    // a node that missed the delete offers the old version: refused, not resurrected
    expect(await c.apply(old.encoded)).toEqual({ outcome: 'stale', code: 'ERR_STALE_RECORD' });
    // an expired tombstone for a file not known here is not kept either
    const t = await (await catalog({ nodeId: NODE_B, now: () => 100 * DAY })).delete('other');
    expect(await c.apply(t.encoded)).toEqual({ outcome: 'expired' });
    // a put newer than anything forgotten is fine
    expect((await put(c, 'k', 9)).result).toEqual({ outcome: 'applied' });
  });

  it('quarantines a record out of listings and summaries, and releases it with a fresh clock', async () => {
    const c = await catalog();
    const kept = await put(c, 'keep', 1);
    const held = await put(c, 'hold', 2);
    const rootBefore = Buffer.from(c.roots()[0]!.root);
    expect(await c.quarantine(vault.ns, held.record.id, 'peer refused: ERR_STALE_RECORD')).toBe(
      true,
    );
    expect(c.list().entries.map((e) => e.name)).toEqual(['keep']);
    expect(c.counts().files).toBe(1);
    expect(c.quarantined()).toEqual([
      expect.objectContaining({ reason: 'peer refused: ERR_STALE_RECORD', record: held.record }),
    ]);
    const released = await c.release(vault.ns, held.record.id);
    expect(released?.result).toEqual({ outcome: 'applied' });
    expect(released!.record.hlc.wall).toBeGreaterThanOrEqual(held.record.hlc.wall);
    expect(c.list().entries.map((e) => e.name)).toEqual(['hold', 'keep']);
    expect(Buffer.from(c.roots()[0]!.root).equals(rootBefore)).toBe(false);
    await c.quarantine(vault.ns, kept.record.id, 'test');
    expect(await c.drop(vault.ns, kept.record.id)).toBe(true);
    expect(c.quarantined()).toEqual([]);
  });
});

describe('Catalog: incremental summaries', () => {
  it('stored sums always equal sums recomputed from the records, through puts, deletes and prunes', async () => {
    let now = 10 * DAY;
    const c = await catalog({ now: () => now, tombstoneTtlMs: DAY });
    const keys = Array.from({ length: 300 }, (_, i) => `k${i % 120}/${i % 7}`);
    for (const [i, key] of keys.entries()) {
      if (i % 5 === 4) await c.delete(key);
      else await put(c, key, i);
      if (i === 150) {
        now += 2 * DAY;
        await c.prune();
      }
    }
    const summary = c.summary(vault.ns);
    const xor = Buffer.alloc(HASH_BYTES);
    let count = 0;
    const buckets = new Map<string, number>();
    for (const e of summary.entries('')) {
      for (let i = 0; i < HASH_BYTES; i++) xor[i]! ^= e.hash[i]!;
      count++;
      buckets.set(e.id.slice(0, 2), (buckets.get(e.id.slice(0, 2)) ?? 0) + 1);
    }
    const root = Buffer.from(summary.root());
    expect(root.subarray(0, HASH_BYTES).equals(xor)).toBe(true);
    expect(root.readUInt32BE(HASH_BYTES)).toBe(count);
    expect(count).toBe(c.counts().files + c.counts().tombstones);
    const top = summary.buckets('');
    for (let b = 0; b < 256; b++) {
      expect(Buffer.from(top.counts).readUInt32BE(b * 4)).toBe(
        buckets.get(b.toString(16).padStart(2, '0')) ?? 0,
      );
    }
    expect(sumKey(vault.ns, 'ab').length).toBe(34);
  });
});

describe('Catalog: holdings', () => {
  const h = (i: number, v = 'v') => ({
    ns: vault.ns,
    id: digest(`id${i}`),
    version: digest(`${v}${i}`),
    size: i,
    sealedSize: sealedSize(i),
    at: i,
  });

  it('adds, replaces, removes by version and counts in O(1)', async () => {
    const c = await catalog();
    await c.holdings.add(h(1));
    await c.holdings.add(h(2));
    await c.holdings.add(h(2, 'w')); // a new version replaces the old
    expect(c.holdings.count()).toEqual({ blobs: 2, bytes: sealedSize(1) + sealedSize(2) });
    expect(c.holdings.get(vault.ns, h(2).id)?.version).toBe(h(2, 'w').version);
    expect(await c.holdings.remove(vault.ns, h(2).id, h(2).version)).toBe(false); // not that version
    expect(await c.holdings.remove(vault.ns, h(2).id)).toBe(true);
    expect([...c.holdings.entries(vault.ns)]).toEqual([h(1)]);
    expect(c.holdings.count()).toEqual({ blobs: 1, bytes: sealedSize(1) });
  });

  it('reconciles with a walk: adds what it lacks, drops what is gone, keeps adds made meanwhile', async () => {
    const c = await catalog();
    // concurrent adds share a commit, as concurrent puts do
    await Promise.all(Array.from({ length: 2500 }, (_, i) => c.holdings.add(h(i))));
    async function* walk() {
      for (let i = 500; i < 3000; i++) {
        if (i === 1000) await c.holdings.add(h(5000)); // a put lands during the walk
        yield i === 2000 ? h(i, 'changed') : h(i);
      }
    }
    expect(await c.holdings.reconcile(walk())).toEqual({ added: 500, changed: 1, removed: 500 });
    const ids = new Set([...c.holdings.entries(vault.ns)].map((e) => e.id));
    expect(ids.size).toBe(2501);
    expect(ids.has(h(5000).id)).toBe(true);
    expect(ids.has(h(499).id)).toBe(false);
    let bytes = 0;
    for (let i = 500; i < 3000; i++) bytes += sealedSize(i);
    expect(c.holdings.count()).toEqual({ blobs: 2501, bytes: bytes + sealedSize(5000) });
  });
});
