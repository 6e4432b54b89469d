import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { deriveFileId } from '@peerstash/crypto';
import type { TcpTransport } from '@peerstash/transport-tcp';
import { afterEach, describe, expect, it } from 'vitest';
import { type FileServer, rankNodes } from '../src/index.js';
import {
  type Cluster,
  pattern,
  patternSha,
  rawPeer,
  sha256Of,
  startCluster,
  waitFor,
  walk,
} from './helpers.js';

const MIB = 1024 * 1024;

async function metric(node: FileServer, line: RegExp): Promise<number> {
  const m = line.exec(await node.metrics.registry.metrics());
  return m ? Number(m[1]) : 0;
}
const sentToPeers = (n: FileServer) => metric(n, /peerstash_bytes_out_total\{via="peer"\} (\d+)/);
const forwarded = (n: FileServer) => metric(n, /peerstash_bytes_out_total\{via="forward"\} (\d+)/);
const peerRot = (n: FileServer) =>
  metric(n, /peerstash_integrity_failures_total\{source="peer"\} (\d+)/);

/** The blob file holding `key` in a data dir (found through its metadata), if any. */
async function blobOf(c: Cluster, dir: string, key: string): Promise<string | undefined> {
  const id = deriveFileId(c.vaultKey, key);
  for (const p of await walk(dir)) {
    if (p.endsWith('.meta.json') && (await readFile(p, 'utf8')).includes(id)) {
      const meta = JSON.parse(await readFile(p, 'utf8')) as { blob: string };
      return p.replace(/[^/]+$/, meta.blob);
    }
  }
  return undefined;
}

async function fileSha(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

describe('chain replication', () => {
  let c: Cluster | undefined;
  let raw: TcpTransport | undefined;
  afterEach(async () => {
    await raw?.close();
    raw = undefined;
    await c?.stop();
    c = undefined;
  });

  for (const mode of ['auto', 'fanout'] as const) {
    it(`${mode}: a 6 MiB put ends with R byte-identical copies; the writer sends the bytes ${mode === 'auto' ? 'once' : 'twice'}`, async () => {
      c = await startCluster(3, { replicationFactor: 3, replicationMode: mode });
      const [a, b, d] = c.nodes as [FileServer, FileServer, FileServer];
      const key = `chain-${mode}`;
      const size = 6 * MIB + 123;
      const r = await a.store(key, pattern(key, size));
      expect(r.replicas).toBe(2);
      const sealed = (await stat((await blobOf(c, c.dirs[0]!, key))!)).size;
      for (const dir of c.dirs) {
        expect(await fileSha((await blobOf(c, dir, key))!)).toBe(r.digest);
      }
      for (const n of c.nodes)
        expect(await sha256Of(await n.get(key))).toBe(await patternSha(key, size));
      const head = rankNodes(deriveFileId(c.vaultKey, key), [b.nodeId, d.nodeId])[0];
      const [headNode, tail] = head === b.nodeId ? [b, d] : [d, b];
      if (mode === 'auto') {
        // the chain: the writer streamed to the head only, the head forwarded to the tail
        expect(await sentToPeers(a)).toBe(sealed);
        expect(await forwarded(headNode)).toBe(sealed);
        expect(await forwarded(tail)).toBe(0);
      } else {
        expect(await sentToPeers(a)).toBe(2 * sealed);
        expect(await forwarded(headNode)).toBe(0);
      }
    });
  }

  it('a chain put that fails (attributes throw after the stream) keeps nothing on any hop', async () => {
    c = await startCluster(3, { replicationFactor: 3, replicationMode: 'chain' });
    const [a, ...peers] = c.nodes as [FileServer, ...FileServer[]];
    await expect(
      a.store('chain-bad', pattern('chain-bad', 3 * MIB), {
        attributes: () => {
          throw Object.assign(new Error('refused late'), { code: 'ERR_TEST_BAD' });
        },
      }),
    ).rejects.toThrow('refused late');
    // the head forwarded what it got (the chain was in use), then every stream was reset
    expect(Math.max(...(await Promise.all(peers.map(forwarded))))).toBeGreaterThan(0);
    await waitFor('no blob or temp file on any node', async () => {
      for (const dir of c!.dirs) {
        if ((await walk(dir)).some((f) => f.includes('blobs') && !f.endsWith('.json'))) {
          return false;
        }
      }
      return true;
    });
    for (const dir of c.dirs) expect(await blobOf(c, dir, 'chain-bad')).toBeUndefined();
  });

  /**
   * Nodes a and d and a raw peer x that speaks the protocol over the cluster secret, linked to
   * both; a key whose chain from a starts at x (then d).
   */
  async function withPeerAtHead(prefix: string) {
    c = await startCluster(2, { replicationFactor: 2, replicationMode: 'chain' });
    const [a, d] = c.nodes as [FileServer, FileServer];
    raw = await rawPeer(c.clusterSecret, 'e'.repeat(64));
    const x = raw;
    const aId = (await x.dial(a.address!)).id;
    const dId = (await x.dial(d.address!)).id;
    await waitFor('x linked both ways', async () => {
      for (const n of [a, d]) if ((await n.status()).peers.length < 2) return false;
      return true;
    });
    let key = '';
    for (let i = 0; ; i++) {
      key = `${prefix}-${i}`;
      if (rankNodes(deriveFileId(c.vaultKey, key), [d.nodeId, x.nodeId])[0] === x.nodeId) break;
    }
    return { a, d, x, aId, dId, key };
  }

  it('a head that does not forward (a node older than chains): the writer sends the rest directly', async () => {
    const { a, d, x, aId, key } = await withPeerAtHead('old-head');
    const offers: Array<Record<string, unknown>> = [];
    // an older node: keeps the replica (here: reads it) and acks it, and knows nothing of `chain`
    x.on('stream', (_from, header, stream: Readable) => {
      offers.push(header as Record<string, unknown>);
      stream.resume();
    });
    x.on('message', (from, msg) => {
      const m = msg as Record<string, unknown>;
      if (from === aId && m.type === 'store-commit') {
        void x.send(aId, { type: 'store-ack', reqId: m.reqId, ok: true });
      }
    });
    const size = 2 * MIB;
    const r = await a.store(key, pattern(key, size));
    // x's copy counted from its plain ack, d's sent directly: 2 replicas, x offered once
    expect(offers).toHaveLength(1);
    expect(offers[0]!.chain).toEqual([d.nodeId]);
    expect(r.replicas).toBe(2);
    expect(await fileSha((await blobOf(c!, c!.dirs[1]!, key))!)).toBe(r.digest);
    expect(await forwarded(d)).toBe(0);
  });

  it('a forwarder that flips a byte: the next hop refuses it at commit and gets a good copy directly', async () => {
    // a, d and a hostile peer x that a places at the head of the chain and that corrupts
    // what it forwards; x speaks the real protocol over the cluster secret
    const { a, d, x, aId, dId, key } = await withPeerAtHead('corrupt-hop');
    const acks: Array<Record<string, unknown>> = [];
    const upstream = new Map<string, string>(); // x's reqId towards d → a's reqId
    let chainOffers = 0;
    x.on('stream', (from, header, stream: Readable) => {
      const h = header as Record<string, unknown>;
      if (from !== aId || h.type !== 'store-offer') {
        stream.resume();
        return;
      }
      if (!Array.isArray(h.chain)) {
        // a's direct send: x keeps nothing
        stream.resume();
        stream.on('end', () => {
          void x.send(aId, { type: 'store-ack', reqId: h.reqId, ok: false, code: 'ERR_NO_SPACE' });
        });
        return;
      }
      chainOffers++;
      const down = `x-${String(h.reqId)}`;
      upstream.set(down, String(h.reqId));
      void x
        .openStream(dId, { type: 'store-offer', reqId: down, ns: h.ns, id: h.id, extra: h.extra })
        .then((out: Writable) => {
          let flipped = false;
          stream.on('data', (chunk: Buffer) => {
            if (!flipped && chunk.length > 100) {
              flipped = true;
              chunk[100] = chunk[100]! ^ 1;
            }
            if (!out.write(chunk)) stream.pause();
          });
          out.on('drain', () => stream.resume());
          stream.on('end', () => out.end());
        });
    });
    x.on('message', (from, msg) => {
      const m = msg as Record<string, unknown>;
      if (from === aId && m.type === 'store-commit') {
        const down = [...upstream].find(([, up]) => up === m.reqId)?.[0];
        if (down) void x.send(dId, { ...m, reqId: down });
      } else if (from === dId && m.type === 'store-ack') {
        acks.push(m);
        const up = upstream.get(String(m.reqId));
        // x passes d's answer on truthfully (it kept no copy itself)
        if (up)
          void x.send(aId, { type: 'store-ack', reqId: up, ok: false, copies: m.ok ? [dId] : [] });
      }
    });

    const size = 3 * MIB;
    const r = await a.store(key, pattern(key, size));
    expect(chainOffers).toBe(1);
    // d checked what came through x against the digest a sent: refused, nothing of it kept
    expect(acks).toEqual([expect.objectContaining({ ok: false, code: 'ERR_INTEGRITY' })]);
    expect(await peerRot(d)).toBe(1);
    // then a sent d its copy directly from the local one: d holds the right bytes
    expect(r.replicas).toBe(1);
    expect(await fileSha((await blobOf(c!, c!.dirs[1]!, key))!)).toBe(r.digest);
    expect(await sha256Of(await d.get(key))).toBe(await patternSha(key, size));
  });
});
