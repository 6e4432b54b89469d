import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveFileId, deriveNamespace, newEncryptionKey, sealedSize } from '@peerstash/crypto';
import { decodeMessage, encodeMessage } from '@peerstash/transport-tcp';
import { afterEach, describe, expect, it } from 'vitest';
import { NotConnectedError, ProtocolError } from '../errors.js';
import { Catalog, type CatalogOptions } from './catalog.js';
import { type CatalogReply, type CatalogRequest, parseCatalogMessage } from './messages.js';
import {
  type CatalogPeers,
  type Outgoing,
  pushRecords,
  serveCatalog,
  syncRound,
  syncWithPeer,
} from './sync.js';

const vaultKey = newEncryptionKey();
const vault = { key: vaultKey, ns: deriveNamespace(vaultKey) };
const DAY = 24 * 3600 * 1000;
const dirs: string[] = [];
const opened: Catalog[] = [];

afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

type Handler = (msg: CatalogRequest, from: string) => Promise<Outgoing<CatalogReply>>;

/**
 * Catalogs joined in-process through the real message encoding and parser, with links that can be
 * cut: a stand-in for the node's peer-rpc until the catalog is wired into it.
 */
class Hub {
  readonly handlers = new Map<string, Map<string, Handler>>();
  readonly cut = new Set<string>();
  requests = 0;
  bytes = 0;
  #seq = 0;

  join(id: string, catalog: Catalog): CatalogPeers {
    const own = new Map<string, Handler>();
    this.handlers.set(id, own);
    serveCatalog({ handle: (type, fn) => own.set(type, fn) }, catalog);
    return {
      peers: () => [...this.handlers.keys()].filter((p) => p !== id && this.linked(id, p)),
      request: async (peer, msg, { expect }) => {
        if (!this.linked(id, peer)) throw new NotConnectedError();
        this.requests++;
        const reqId = `r${String(++this.#seq).padStart(8, '0')}`; // fixed length: byte counts compare
        const out = encodeMessage({ ...msg, reqId } as never);
        this.bytes += out.length;
        const parsed = parseCatalogMessage(decodeMessage(out)) as CatalogRequest;
        const handler = this.handlers.get(peer)?.get(parsed.type);
        if (!handler) throw new NotConnectedError();
        const reply = await handler(parsed, id);
        const back = encodeMessage({ ...reply, reqId } as never);
        this.bytes += back.length;
        const got = parseCatalogMessage(decodeMessage(back)) as CatalogReply;
        if (got.type !== expect || got.reqId !== reqId) throw new ProtocolError('unexpected reply');
        return got;
      },
    };
  }

  linked(a: string, b: string): boolean {
    return !this.cut.has([a, b].sort().join('|'));
  }

  partition(left: string[], right: string[]): void {
    for (const a of left) for (const b of right) this.cut.add([a, b].sort().join('|'));
  }

  heal(): void {
    this.cut.clear();
  }
}

const nodeId = (n: string) => createHash('sha256').update(n).digest('hex');

async function node(hub: Hub, name: string, options: Partial<CatalogOptions> = {}) {
  const path = await mkdtemp(join(tmpdir(), `sync-${name}-`));
  dirs.push(path);
  const catalog = Catalog.open({ path, nodeId: nodeId(name), vault, ...options });
  opened.push(catalog);
  return { id: nodeId(name), catalog, peers: hub.join(nodeId(name), catalog) };
}

type Node = Awaited<ReturnType<typeof node>>;

/** A put as the node will do it: commit here, push to every peer, then acknowledge. */
async function put(n: Node, key: string, size = 10) {
  const done = await n.catalog.beginPut(key).commit({
    version: createHash('sha256').update(`${key}${Math.random()}`).digest('hex'),
    size,
    sealedSize: sealedSize(size),
  });
  return { ...done, push: await pushRecords(n.peers, [done.encoded]) };
}

async function del(n: Node, key: string) {
  const done = await n.catalog.delete(key);
  return { ...done, push: await pushRecords(n.peers, [done.encoded]) };
}

/** Bulk records straight into a catalog (no push), as the bench fills one. */
async function fill(n: Node, count: number, tag = 'f') {
  const items = Array.from({ length: count }, (_, i) => `${tag}/${i}`);
  for (let i = 0; i < items.length; i += 500) {
    await Promise.all(
      items.slice(i, i + 500).map((key) =>
        n.catalog.beginPut(key).commit({
          version: createHash('sha256').update(key).digest('hex'),
          size: 1,
          sealedSize: sealedSize(1),
        }),
      ),
    );
  }
}

const names = (n: Node) => {
  const out: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = n.catalog.list({ limit: 1000, ...(after ? { after } : {}) });
    out.push(...page.entries.map((e) => `${e.name}@${e.version.slice(0, 8)}`));
    if (!page.next) return out;
    after = page.next;
  }
};
const root = (n: Node) =>
  Buffer.from(n.catalog.roots().find((r) => r.ns === vault.ns)?.root ?? Buffer.alloc(12)).toString(
    'hex',
  );

describe('catalog sync', () => {
  it('a put pushed to every peer: each acknowledges, and lists it at once', async () => {
    const hub = new Hub();
    const [a, b, c] = [await node(hub, 'a'), await node(hub, 'b'), await node(hub, 'c')];
    const done = await put(a, 'docs/x', 5);
    expect(done.push.acked.sort()).toEqual([b.id, c.id].sort());
    expect(b.catalog.stat('docs/x')?.version).toBe(done.record.version);
    expect(c.catalog.stat('docs/x')?.version).toBe(done.record.version);
  });

  it('a peer that refuses (clock far behind) is reported, and takes the record once its clock catches up', async () => {
    const hub = new Hub();
    let late = Date.now() - 10 * 60_000;
    const a = await node(hub, 'a');
    const b = await node(hub, 'b', { now: () => late });
    const done = await put(a, 'k');
    expect(done.push).toEqual({ acked: [], failed: [{ peer: b.id, code: 'ERR_CLOCK_DRIFT' }] });
    late = Date.now();
    expect((await syncWithPeer(b.catalog, b.peers, a.id)).applied).toBe(1);
    expect(b.catalog.stat('k')?.version).toBe(done.record.version);
  });

  it('a new node gets everything in one exchange; an idle exchange is one small message either way', async () => {
    const hub = new Hub();
    const a = await node(hub, 'a');
    const b = await node(hub, 'b');
    await fill(a, 1500);
    const first = await syncWithPeer(b.catalog, b.peers, a.id);
    expect(first.applied).toBe(1500);
    expect(names(b)).toEqual(names(a));
    expect(root(b)).toBe(root(a));
    // idle: the cost of a round does not depend on how many files there are
    const idle = async () => {
      hub.requests = 0;
      hub.bytes = 0;
      const r = await syncWithPeer(b.catalog, b.peers, a.id);
      return { requests: r.requests, bytes: hub.bytes };
    };
    const big = await idle();
    expect(big.requests).toBe(1);
    const hub2 = new Hub();
    const [c, d] = [await node(hub2, 'c'), await node(hub2, 'd')];
    await fill(c, 10);
    await syncWithPeer(d.catalog, d.peers, c.id);
    hub2.bytes = 0;
    expect((await syncWithPeer(d.catalog, d.peers, c.id)).requests).toBe(1);
    expect(hub2.bytes).toBe(big.bytes);
  });

  it('finds a few differences among thousands with a few messages, both ways', async () => {
    const hub = new Hub();
    const a = await node(hub, 'a');
    const b = await node(hub, 'b');
    await fill(a, 3000);
    await syncWithPeer(b.catalog, b.peers, a.id);
    hub.partition([a.id], [b.id]);
    await put(a, 'only-on-a');
    await put(b, 'only-on-b');
    await put(b, 'f/17', 99); // a newer version on b
    await del(a, 'f/2000');
    hub.heal();
    hub.bytes = 0;
    const r = await syncWithPeer(a.catalog, a.peers, b.id);
    expect(r).toMatchObject({ applied: 2, pushed: 2 });
    expect(r.requests).toBeLessThanOrEqual(12);
    expect(hub.bytes).toBeLessThan(60_000); // the full set is ~3000 × 300 B
    expect(names(a)).toEqual(names(b));
    expect(root(a)).toBe(root(b));
    expect(a.catalog.stat('f/17')?.size).toBe(99);
    expect(b.catalog.stat('f/2000')).toBeUndefined();
  });

  it('after a partition with puts and deletes on both sides, every node lists the same; deletes stay deleted; one winner', async () => {
    const hub = new Hub();
    const ns = [await node(hub, 'a'), await node(hub, 'b'), await node(hub, 'c')];
    const [a, b, c] = ns as [Node, Node, Node];
    for (const k of ['keep', 'gone-left', 'gone-right', 'both']) await put(a, k);
    hub.partition([a.id], [b.id, c.id]);
    await del(a, 'gone-left');
    await put(a, 'new-left');
    await put(a, 'both', 1); // concurrent puts of one key on the two sides
    await del(b, 'gone-right');
    await put(c, 'new-right');
    await put(c, 'both', 2);
    await put(b, 'gone-left', 3); // a put after the other side's delete: the later clock wins
    hub.heal();
    for (let round = 0; round < 2; round++) for (const n of ns) await syncRound(n.catalog, n.peers);
    const listing = names(a);
    expect(names(b)).toEqual(listing);
    expect(names(c)).toEqual(listing);
    expect(new Set(ns.map(root)).size).toBe(1);
    const keys = listing.map((l) => l.split('@')[0]);
    expect(keys).toEqual(['both', 'gone-left', 'keep', 'new-left', 'new-right']);
    expect(a.catalog.stat('gone-left')?.size).toBe(3);
    expect(a.catalog.stat('gone-right')).toBeUndefined();
    const winner = ns.map((n) => n.catalog.stat('both')?.version);
    expect(new Set(winner).size).toBe(1);
    // and a fourth, quiet round moves nothing
    hub.requests = 0;
    for (const n of ns) await syncRound(n.catalog, n.peers);
    expect(hub.requests).toBe(6);
  });

  it('storage-only nodes relay records they cannot read between vault nodes that never meet', async () => {
    const hub = new Hub();
    const a = await node(hub, 'a');
    const relay = await node(hub, 'relay', { vault: undefined });
    const b = await node(hub, 'b');
    hub.partition([a.id], [b.id]);
    await put(a, 'photos/1.jpg', 4);
    await del(a, 'photos/1.jpg');
    await put(a, 'photos/2.jpg', 8);
    expect(relay.catalog.counts()).toMatchObject({ files: 1, tombstones: 1 });
    await syncRound(b.catalog, b.peers);
    expect(names(b)).toEqual(names(a));
    expect(b.catalog.stat('photos/2.jpg')?.size).toBe(8);
  });

  it('a node back after the tombstone TTL: its deleted files are quarantined, not brought back', async () => {
    const hub = new Hub();
    let now = 100 * DAY;
    const clock = { now: () => now, tombstoneTtlMs: 7 * DAY };
    const a = await node(hub, 'a', clock);
    const b = await node(hub, 'b', clock);
    const away = await node(hub, 'away', clock);
    await put(a, 'deleted-while-away');
    await put(a, 'kept');
    hub.partition([away.id], [a.id, b.id]);
    await del(a, 'deleted-while-away');
    now += 8 * DAY;
    await put(away, 'written-while-away'); // new: newer than anything forgotten, spreads
    expect(await a.catalog.prune()).toBe(1);
    expect(await b.catalog.prune()).toBe(1);
    hub.heal();
    // a settled node pulling from the returning one takes the new file and refuses the old one
    const pulled = await syncWithPeer(a.catalog, a.peers, away.id);
    expect(pulled.applied).toBe(1);
    expect(a.catalog.stat('deleted-while-away')).toBeUndefined();
    const r = await syncWithPeer(away.catalog, away.peers, a.id);
    expect(r.quarantined).toBe(1);
    expect(away.catalog.stat('deleted-while-away')).toBeUndefined();
    for (const n of [a, b, away]) await syncRound(n.catalog, n.peers);
    for (const n of [a, b, away]) {
      expect(names(n).map((l) => l.split('@')[0])).toEqual(['kept', 'written-while-away']);
    }
    expect(away.catalog.quarantined().map((q) => q.record.id)).toEqual([
      deriveFileId(vaultKey, 'deleted-while-away'),
    ]);
  });
});
