// Anti-entropy repair across real in-process clusters: lost replicas come back, a new node takes
// its share while no key drops below R, and a delete everywhere survives a node that missed it.

import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { casPathTransform } from '@peerstash/cas-store';
import { deriveFileId, deriveNamespace } from '@peerstash/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type FileServer, placeReplicas, readApiInfo } from '../src/index.js';
import { type Cluster, pattern, startCluster, startNode, tempDir, waitFor } from './helpers.js';

const R = 3;
const FAST = { replicationFactor: R, repairIntervalMs: 250, requestTimeoutMs: 3000 };

interface Member {
  node: FileServer;
  dir: string;
  /** Kept apart from the node, which answers nodeId only while running. */
  id: string;
}

/** Which members hold a copy of `key`, read synchronously so the picture is one instant. */
function holders(c: Cluster, members: Member[], key: string): string[] {
  const ns = deriveNamespace(c.vaultKey);
  const { pathName, filename } = casPathTransform(deriveFileId(c.vaultKey, key));
  return members
    .filter((m) => existsSync(join(m.dir, 'blobs', ns, pathName, `${filename}.meta.json`)))
    .map((m) => m.id)
    .sort();
}

function placement(c: Cluster, members: Member[], key: string): string[] {
  const ids = members.map((m) => m.id);
  return placeReplicas(deriveFileId(c.vaultKey, key), ids, R).sort();
}

/** Every key is held by exactly its placement nodes among `members`. */
function settled(c: Cluster, members: Member[], keys: string[]): boolean {
  return keys.every((k) => holders(c, members, k).join() === placement(c, members, k).join());
}

async function putFiles(node: FileServer, n: number, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = `${prefix}/${i}.bin`;
    await node.store(key, pattern(key, 1000 + i * 37));
    keys.push(key);
  }
  return keys;
}

async function rounds(members: Member[]): Promise<number> {
  const all = await Promise.all(members.map(async (m) => (await m.node.status()).repairRounds));
  return Math.min(...all);
}

let c: Cluster | undefined;
const extra: Member[] = [];

afterEach(async () => {
  await Promise.all(extra.map((m) => m.node.stop()));
  await c?.stop();
  await Promise.all(extra.map((m) => rm(m.dir, { recursive: true, force: true })));
  extra.length = 0;
  c = undefined;
});

function membersOf(cl: Cluster): Member[] {
  return cl.nodes.map((node, i) => ({ node, dir: cl.dirs[i]!, id: node.nodeId }));
}

describe('anti-entropy repair', () => {
  it('restores R replicas on live nodes after a node is lost for good', async () => {
    c = await startCluster(5, { ...FAST, storageOnly: [3] });
    const all = membersOf(c);
    const keys = await putFiles(c.nodes[0]!, 30, 'lost');
    await waitFor('placement reached', () => settled(c!, all, keys), 60_000);
    const id0 = all[0]!.id;
    const mine = keys.filter((k) => holders(c!, all, k).includes(id0)).length;
    await waitFor('keysHeld counted', async () => (await c!.nodes[0]!.status()).keysHeld === mine);

    // the storage-only node holds its share too, and is the one that goes
    const lost = all[3]!;
    expect(keys.some((k) => holders(c!, all, k).includes(lost.id))).toBe(true);
    await lost.node.stop();
    const live = all.filter((m) => m !== lost);
    const before = await rounds(live);
    await waitFor('R replicas again', () => settled(c!, live, keys), 60_000);
    for (const k of keys) expect(holders(c, live, k)).toHaveLength(R);
    // bounded: a handful of rounds after the loss, not an open-ended trickle
    expect((await rounds(live)) - before).toBeLessThanOrEqual(20);
    await waitFor('status calm', async () => {
      const s = await Promise.all(live.map((m) => m.node.status()));
      return s.every((x) => x.underReplicated === 0 && x.lastRepairAt !== null);
    });
    const after = await Promise.all(live.map((m) => m.node.status()));
    expect(after.reduce((a, x) => a + x.repairBytesSent, 0)).toBeGreaterThan(0);
    expect(after.every((x) => typeof x.repairInProgress === 'boolean')).toBe(true);
  });

  it('hands a sixth node its share; surplus copies go, and no key drops below R', async () => {
    c = await startCluster(5, FAST);
    const five = membersOf(c);
    const keys = await putFiles(c.nodes[1]!, 60, 'join');
    await waitFor('placement reached', () => settled(c!, five, keys), 60_000);

    let lowest = Number.POSITIVE_INFINITY;
    const dir = await tempDir('n5');
    const sixth = await startNode({
      dataDir: dir,
      bootstrap: [c.nodes[0]!.address!],
      vaultKey: c.vaultKey,
      clusterSecret: c.clusterSecret,
      ...FAST,
    });
    const newcomer = { node: sixth, dir, id: sixth.nodeId };
    extra.push(newcomer);
    const six = [...five, newcomer];
    const sampler = setInterval(() => {
      for (const k of keys) lowest = Math.min(lowest, holders(c!, six, k).length);
    }, 20);
    try {
      await waitFor('rebalanced', () => settled(c!, six, keys), 90_000);
    } finally {
      clearInterval(sampler);
    }
    expect(lowest).toBeGreaterThanOrEqual(R);
    const got = keys.filter((k) => holders(c!, six, k).includes(newcomer.id)).length;
    // about 3/6 of the keys (30 of 60 expected; rendezvous weights are uniform)
    expect(got).toBeGreaterThanOrEqual(15);
    expect(got).toBeLessThanOrEqual(45);
    for (const k of keys) expect(holders(c, six, k)).toHaveLength(R);
    // reads work from any node after the move
    const text = await sixth.read(keys[7]!);
    expect(text.size).toBe(1000 + 7 * 37);
  });

  it('R = 0: repair leaves every copy where it was written, alone or among peers', async () => {
    c = await startCluster(2, { ...FAST, replicationFactor: 0 });
    const [a, b] = c.nodes as [FileServer, FileServer];
    const dir = await tempDir('r0');
    const alone = await startNode({
      dataDir: dir,
      vaultKey: c.vaultKey,
      replicationFactor: 0,
      repairIntervalMs: 50,
    });
    extra.push({ node: alone, dir, id: alone.nodeId });
    for (const n of [a, alone]) {
      expect((await n.store('here', pattern('here', 10_000))).replicas).toBe(0);
    }
    for (let i = 0; i < 3; i++) await Promise.all([a.repair(), b.repair(), alone.repair()]);
    expect(await a.has('here')).toBe(true);
    expect(await b.has('here')).toBe(false);
    expect(await alone.has('here')).toBe(true);
    expect((await a.status()).keysHeld).toBe(1);
  });

  it('repair pushes keep to repairRateBytesPerSec', async () => {
    // 4 sealed files of 512 KiB at 512 KB/s, the first 1 MiB as the bucket's burst: >= ~1.9 s
    c = await startCluster(1, { ...FAST, repairRateBytesPerSec: 512_000 });
    const a = membersOf(c)[0]!;
    const keys: string[] = [];
    for (let i = 0; i < 4; i++) {
      keys.push(`rate/${i}`);
      await a.node.store(`rate/${i}`, pattern(`rate/${i}`, 512 * 1024));
    }
    const dir = await tempDir('rate');
    const started = performance.now();
    const b = await startNode({
      dataDir: dir,
      bootstrap: [a.node.address!],
      vaultKey: c.vaultKey,
      clusterSecret: c.clusterSecret,
      ...FAST,
    });
    const joined = { node: b, dir, id: b.nodeId };
    extra.push(joined);
    await waitFor('copied', () => keys.every((k) => holders(c!, [joined], k).length === 1), 60_000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1500);
    expect((await a.node.status()).repairBytesSent).toBeGreaterThanOrEqual(4 * 512 * 1024);
  });

  it('GET /v1/status reports the repair state', async () => {
    c = await startCluster(2, { ...FAST, api: true });
    await c.nodes[0]!.store('s/1', pattern('s', 100));
    await c.nodes[0]!.repair();
    const info = (await readApiInfo(c.dirs[0]!))!;
    const res = await fetch(`${info.url}/v1/status`, {
      headers: { authorization: `Bearer ${info.token}` },
    });
    expect(res.status).toBe(200);
    const st = (await res.json()) as Record<string, unknown>;
    expect(st.keysHeld).toBe(1);
    expect(st.underReplicated).toBe(0);
    expect(typeof st.repairInProgress).toBe('boolean');
    expect(typeof st.lastRepairAt).toBe('number');
    expect(typeof st.repairBytesSent).toBe('number');
  });

  it('a delete everywhere survives a replica holder that was down, and a later put wins', async () => {
    c = await startCluster(5, FAST);
    const all = membersOf(c);
    const keys = await putFiles(c.nodes[0]!, 10, 'tomb');
    await waitFor('placement reached', () => settled(c!, all, keys), 60_000);

    const key = keys.find((k) => !holders(c!, all, k).includes(all[0]!.id))!;
    const idx = all.findIndex((m) => holders(c!, all, key).includes(m.id));
    const down = all[idx]!;
    await down.node.stop();
    const live = all.filter((m) => m !== down);
    expect((await c.nodes[0]!.delete(key, { everywhere: true })).peers).toBeGreaterThan(0);
    await waitFor('gone from live nodes', () => holders(c!, live, key).length === 0);

    // the holder comes back with its old copy
    expect(holders(c, all, key)).toEqual([down.id]);
    const back = await startNode({
      dataDir: down.dir,
      bootstrap: [c.nodes[0]!.address!],
      vaultKey: c.vaultKey,
      clusterSecret: c.clusterSecret,
      ...FAST,
    });
    c.nodes[idx] = back;
    const again = membersOf(c);
    await waitFor('old copy removed', () => holders(c!, again, key).length === 0, 60_000);
    const start = await rounds(again);
    await waitFor('three more rounds', async () => (await rounds(again)) >= start + 3, 60_000);
    expect(holders(c, again, key)).toEqual([]);
    for (const node of c.nodes) {
      await expect(node.read(key)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    }
    // the other files are untouched
    await waitFor(
      'others settled',
      () =>
        settled(
          c!,
          again,
          keys.filter((k) => k !== key),
        ),
      60_000,
    );

    // a later put supersedes the tombstone everywhere
    await c.nodes[2]!.store(key, pattern('new', 500));
    await waitFor('new version placed', () => settled(c!, again, [key]), 60_000);
    expect((await back.read(key)).size).toBe(500);
  });
});
