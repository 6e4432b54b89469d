// A node back after more than the tombstone TTL: it keeps the files the cluster deleted and has
// forgotten, but quarantines them (not listed, read or spread) until an operator confirms them.

import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type FileServer, readApiInfo } from '../src/index.js';
import {
  type Cluster,
  pattern,
  patternSha,
  sha256Of,
  startCluster,
  startNode,
  waitFor,
} from './helpers.js';

const TTL = 1500;
let c: Cluster | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

const keysOf = async (n: FileServer) => (await n.listPage({})).files.map((f) => f.key);

describe('a node back after the tombstone TTL', () => {
  it('keeps what the cluster forgot, spreads none of it, and an operator can confirm it', async () => {
    c = await startCluster(3, { tombstoneTtlMs: TTL, api: true });
    const [a, b] = c.nodes as [FileServer, FileServer];
    await a.store('kept', pattern('kept', 2000));
    await a.store('gone', pattern('gone', 3000));
    await c.nodes[2]!.stop();
    expect((await a.delete('gone', { everywhere: true })).deleted).toBe(true);
    // past the TTL the tombstones are forgotten everywhere the delete reached
    await sleep(TTL + 300);
    await a.repair();
    await b.repair();
    expect((await a.status()).catalog.tombstones).toBe(0);

    const back = await startNode({
      dataDir: c.dirs[2]!,
      vaultKey: c.vaultKey,
      clusterSecret: c.clusterSecret,
      bootstrap: [a.address!],
      tombstoneTtlMs: TTL,
      api: true,
    });
    c.nodes[2] = back;
    expect((await back.status()).tombstonesMayBeMissed).toBe(true);
    await waitFor('back in', async () => (await a.status()).peers.length === 2);
    for (let i = 0; i < 2; i++) for (const n of [back, a, b]) await n.repair();

    for (const n of c.nodes) expect(await keysOf(n)).toEqual(['kept']);
    expect(await back.has('gone')).toBe(true);
    expect(await a.has('gone')).toBe(false);
    expect(await b.has('gone')).toBe(false);
    await expect(back.read('gone')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    expect((await back.status()).catalog.quarantined).toBe(1);

    // the operator sees it and confirms it: it spreads again and wins
    const api = (await readApiInfo(c.dirs[2]!))!;
    const call = (path: string, method = 'GET') =>
      fetch(`${api.url}${path}`, { method, headers: { authorization: `Bearer ${api.token}` } });
    const { records } = (await (await call('/v1/quarantine')).json()) as {
      records: Array<{ key: string; size: number; reason: string }>;
    };
    expect(records).toEqual([expect.objectContaining({ key: 'gone', size: 3000 })]);
    expect((await call('/v1/quarantine/gone', 'POST')).status).toBe(200);
    expect((await call('/v1/quarantine/gone', 'POST')).status).toBe(404);
    for (const n of c.nodes) expect(await keysOf(n)).toEqual(['gone', 'kept']);
    // released, it spreads again: a round or two (a push in flight when a round ends is the next's)
    await waitFor('released copy spread', async () => {
      for (const n of [back, a, b]) await n.repair();
      return (await a.has('gone')) || (await b.has('gone'));
    });
    expect(await sha256Of(await b.get('gone'))).toBe(await patternSha('gone', 3000));
  });
});
