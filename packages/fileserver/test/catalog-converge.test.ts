// Catalog convergence: concurrent puts of one key settle on one winner everywhere once both are
// acknowledged, and after a partition with puts and deletes on both sides every node lists the same.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { FileServer } from '../src/index.js';
import {
  type Cluster,
  pattern,
  patternSha,
  sha256Of,
  startCluster,
  startNode,
  waitFor,
} from './helpers.js';

let c: Cluster | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

async function keysOf(node: FileServer): Promise<string[]> {
  return (await node.listPage({ limit: 10_000 })).files.map((f) => f.key);
}

/** Restarts node `i` of the cluster on its data dir: alone (its known peers forgotten) or joining `to`. */
async function restart(cluster: Cluster, i: number, to?: FileServer): Promise<FileServer> {
  await cluster.nodes[i]!.stop();
  const file = join(cluster.dirs[i]!, 'node.json');
  const node = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  // a new port and no peers to redial: the others cannot find it until it dials them
  delete node.peers;
  delete node.listen;
  await writeFile(file, JSON.stringify(node));
  const next = await startNode({
    dataDir: cluster.dirs[i]!,
    vaultKey: cluster.vaultKey,
    clusterSecret: cluster.clusterSecret,
    replicationFactor: 1,
    bootstrap: to ? [to.address!] : [],
  });
  cluster.nodes[i] = next;
  return next;
}

describe('catalog convergence', () => {
  it('concurrent puts of one key on two nodes: one winner everywhere once both are acknowledged', async () => {
    c = await startCluster(3, { replicationFactor: 1 });
    const [a, b] = c.nodes as [FileServer, FileServer];
    for (let i = 0; i < 6; i++) {
      const key = `race/${i}`;
      const [ra, rb] = await Promise.all([
        a.store(key, pattern(`a${i}`, 3000 + i)),
        b.store(key, pattern(`b${i}`, 4000 + i)),
      ]);
      expect(ra.digest).not.toBe(rb.digest);
      // no repair round ran: what every node answers now is what it will answer
      const versions = await Promise.all(c.nodes.map(async (n) => (await n.info(key)).version));
      expect(new Set(versions).size).toBe(1);
      const winner = versions[0] === ra.digest ? `a${i}` : `b${i}`;
      const size = winner.startsWith('a') ? 3000 + i : 4000 + i;
      expect([ra.digest, rb.digest]).toContain(versions[0]);
      for (const n of c.nodes) {
        const r = await n.read(key);
        expect(r.digest).toBe(versions[0]);
        expect(await sha256Of(r.stream)).toBe(await patternSha(winner, size));
      }
    }
  });

  it('a partition with puts and deletes on both sides heals to one listing, deletes never resurrect', async () => {
    c = await startCluster(3, { replicationFactor: 1 });
    const [a, b] = c.nodes as [FileServer, FileServer];
    for (let i = 0; i < 10; i++) await a.store(`base/${i}`, pattern(`base${i}`, 500 + i));
    for (const n of c.nodes) expect(await keysOf(n)).toHaveLength(10);

    // partition: c alone on a new port; a and b on the other side
    let alone = await restart(c, 2);
    await waitFor('split', async () => (await a.status()).peers.length === 1);
    expect((await alone.status()).peers).toHaveLength(0);
    const step = () => sleep(20);

    await a.store('side1/x', pattern('x', 100));
    await a.delete('base/0', { everywhere: true });
    await alone.store('side2/y', pattern('y', 100));
    await alone.delete('base/1', { everywhere: true });
    // base/3: overwritten on one side, deleted later on the other → deleted
    await b.store('base/3', pattern('base3-new', 50));
    await step();
    await alone.delete('base/3', { everywhere: true });
    // base/4: deleted on one side, put later on the other → the put
    await alone.delete('base/4', { everywhere: true });
    await step();
    await a.store('base/4', pattern('base4-new', 60));
    // one key put on both sides: the later wins
    await a.store('both', pattern('one', 70));
    await step();
    await alone.store('both', pattern('two', 80));

    // heal: c dials a again; one repair round each syncs the catalogs
    alone = await restart(c, 2, a);
    await waitFor('healed', async () => {
      for (const n of c!.nodes) if ((await n.status()).peers.length < 2) return false;
      return true;
    });
    for (const n of c.nodes) await n.repair();
    for (const n of c.nodes) await n.repair();

    const want = [
      'base/2',
      'base/4',
      'base/5',
      'base/6',
      'base/7',
      'base/8',
      'base/9',
      'both',
      'side1/x',
      'side2/y',
    ];
    for (const n of c.nodes) expect(await keysOf(n)).toEqual(want);
    for (const n of c.nodes) {
      for (const key of ['base/0', 'base/1', 'base/3']) {
        await expect(n.read(key)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
        await expect(n.info(key)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
      }
      expect(await sha256Of((await n.read('both')).stream)).toBe(await patternSha('two', 80));
      expect(await sha256Of((await n.read('base/4')).stream)).toBe(
        await patternSha('base4-new', 60),
      );
    }
    // more rounds change nothing: nothing deleted comes back from any copy left behind
    for (const n of c.nodes) await n.repair();
    for (const n of c.nodes) expect(await keysOf(n)).toEqual(want);
    const roots = await Promise.all(c.nodes.map(async (n) => (await n.status()).catalog));
    expect(new Set(roots.map((r) => JSON.stringify(r))).size).toBe(1);
  });
});
