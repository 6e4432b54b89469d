import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Cluster,
  pattern,
  patternSha,
  sha256Of,
  startCluster,
  startNode,
  waitFor,
} from './helpers.js';

describe('3-node cluster', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster(3);
  });
  afterAll(async () => {
    await c?.stop();
  });

  it('put on A, get on B and C: byte-identical', async () => {
    const [a, b, cc] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0], (typeof c.nodes)[0]];
    const size = 3 * 1024 * 1024 + 17;
    const res = await a.store('docs/report.pdf', pattern('three', size));
    expect(res).toMatchObject({ key: 'docs/report.pdf', size, replicas: 2 });
    const want = await patternSha('three', size);
    expect(await sha256Of(await b.get('docs/report.pdf'))).toBe(want);
    expect(await sha256Of(await cc.get('docs/report.pdf'))).toBe(want);
    expect(await sha256Of(await a.get('docs/report.pdf'))).toBe(want);
  });

  it('stores the empty file and odd keys', async () => {
    const [a, b] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0]];
    for (const key of ['', 'x'.repeat(5000)]) {
      await expect(a.store(key, pattern('x', 1))).rejects.toMatchObject({
        code: 'ERR_INVALID_KEY',
      });
    }
    for (const key of ['empty', '../../etc/passwd', 'ünï/cödé 🎉', 'a\nb']) {
      await a.store(key, pattern(key, key === 'empty' ? 0 : 1000));
      expect(await sha256Of(await b.get(key))).toBe(
        await patternSha(key, key === 'empty' ? 0 : 1000),
      );
    }
    const keys = (await b.list()).map((f) => f.key);
    expect(keys).toEqual(
      expect.arrayContaining(['empty', '../../etc/passwd', 'ünï/cödé 🎉', 'a\nb']),
    );
    const entry = (await b.list()).find((f) => f.key === '../../etc/passwd');
    expect(entry?.size).toBe(1000);
  });

  it('overwrites a key with new content everywhere', async () => {
    const [a, b] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0]];
    await a.store('over', pattern('v1', 5000));
    await b.store('over', pattern('v2', 7000));
    expect(await sha256Of(await a.get('over'))).toBe(await patternSha('v2', 7000));
  });

  it('delete everywhere removes the replicas', async () => {
    const [a, b, cc] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0], (typeof c.nodes)[0]];
    await a.store('doomed', pattern('doomed', 10_000));
    expect(await b.has('doomed')).toBe(true);
    const local = await b.delete('doomed');
    expect(local).toEqual({ deleted: true, peers: 0 });
    expect(await b.has('doomed')).toBe(false);
    // b gets it back from a peer
    expect(await sha256Of(await b.get('doomed'))).toBe(await patternSha('doomed', 10_000));
    const all = await a.delete('doomed', { everywhere: true });
    expect(all).toEqual({ deleted: true, peers: 2 });
    for (const n of [a, b, cc]) expect(await n.has('doomed')).toBe(false);
    await expect(cc.get('doomed')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('status reports peers, blobs and bytes', async () => {
    const st = await c.nodes[0]!.status();
    expect(st.nodeId).toMatch(/^[0-9a-f]{64}$/);
    expect(st.listen).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(st.peers).toHaveLength(2);
    expect(st.blobs).toBeGreaterThan(0);
    expect(st.bytes).toBeGreaterThan(0);
    expect(st.storageOnly).toBe(false);
    expect(st.secure).toBe(true);
  });
});

describe('10-node cluster', () => {
  let c: Cluster;
  beforeAll(async () => {
    // chained bootstrap: each node knows only the previous one; peer exchange meshes them
    // peers get 20 s to answer, so a quick miss below is an answer, not a timeout on a loaded host
    c = await startCluster(10, { chain: true, replicationFactor: 3, requestTimeoutMs: 20_000 });
  });
  afterAll(async () => {
    await c?.stop();
  });

  it('every node is connected to every other one', async () => {
    for (const n of c.nodes) expect((await n.status()).peers).toHaveLength(9);
  });

  it('places R=3 replicas and every node reads the file', async () => {
    const size = 1024 * 1024 + 3;
    const res = await c.nodes[4]!.store('ten', pattern('ten', size));
    expect(res.replicas).toBe(3);
    const holders = await Promise.all(c.nodes.map((n) => n.has('ten')));
    expect(holders.filter(Boolean).length).toBe(4);
    const want = await patternSha('ten', size);
    for (const n of c.nodes) expect(await sha256Of(await n.get('ten'))).toBe(want);
  });

  it('an unknown key fails with ERR_NOT_FOUND quickly', async () => {
    const t0 = Date.now();
    await expect(c.nodes[0]!.get('never-stored')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe('5-node cluster', () => {
  it('unknown key → ERR_NOT_FOUND at once, not after waiting out a peer', async () => {
    // peers are given 20 s to answer: a miss well under that was answered, not timed out
    const c = await startCluster(5, { requestTimeoutMs: 20_000 });
    try {
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        await expect(c.nodes[i]!.get(`missing-${i}`)).rejects.toMatchObject({
          code: 'ERR_NOT_FOUND',
        });
        expect(performance.now() - t0).toBeLessThan(5000);
      }
    } finally {
      await c.stop();
    }
  });
});

describe('recovery', () => {
  it('A stopped and wiped: B (same vault key) gets the file from a replica', async () => {
    const c = await startCluster(3);
    try {
      const [a, b] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0]];
      const size = 2 * 1024 * 1024;
      await a.store('precious', pattern('precious', size));
      await a.stop();
      await rm(c.dirs[0]!, { recursive: true, force: true });
      await waitFor('b sees a gone', async () => (await b.status()).peers.length === 1);
      // b dropped its own copy too, so it must come from c
      await b.delete('precious');
      const fetched = await b.read('precious');
      expect(fetched.source).toBe('peer');
      expect(fetched.size).toBe(size);
      expect(await sha256Of(fetched.stream)).toBe(await patternSha('precious', size));
      // the fetched blob was kept on the way: the next read is local
      const again = await b.read('precious');
      expect(again.source).toBe('local');
      expect(await sha256Of(again.stream)).toBe(await patternSha('precious', size));
    } finally {
      await c.stop();
    }
  });

  it('keeps node id and keys across a restart and rejoins', async () => {
    const c = await startCluster(2);
    try {
      const [a] = c.nodes as [(typeof c.nodes)[0]];
      const id = a.nodeId;
      await a.store('persist', pattern('persist', 1234));
      await a.stop();
      const again = await startNode({ dataDir: c.dirs[0]! });
      c.nodes[0] = again;
      expect(again.nodeId).toBe(id);
      expect((await again.status()).secure).toBe(true);
      expect(await sha256Of(await again.get('persist'))).toBe(await patternSha('persist', 1234));
      await waitFor('rejoin', async () => (await again.status()).peers.length === 1);
    } finally {
      await c.stop();
    }
  });

  it('a node restarted on a new port finds its old peers again', async () => {
    const c = await startCluster(2);
    const { createServer } = await import('node:net');
    const squatter = createServer();
    try {
      const [a, b] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0]];
      const old = a.address!;
      await a.stop();
      // someone else takes the old port, so the node must listen elsewhere
      await new Promise<void>((r) => squatter.listen(Number(old.split(':')[1]), '127.0.0.1', r));
      const again = await startNode({ dataDir: c.dirs[0]! });
      c.nodes[0] = again;
      expect(again.address).not.toBe(old);
      await waitFor('rejoin', async () => (await again.status()).peers.length === 1);
      await waitFor('b sees it', async () =>
        (await b.status()).peers.some((p) => p.id === again.nodeId),
      );
    } finally {
      squatter.close();
      await c.stop();
    }
  });
});
