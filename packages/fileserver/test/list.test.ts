import { join } from 'node:path';
import { CasStore } from '@peerstash/cas-store';
import { deriveFileId, deriveNamespace } from '@peerstash/crypto';
import { describe, expect, it } from 'vitest';
import { type FileServer, readApiInfo } from '../src/index.js';
import { pattern, startCluster, startNode, waitFor } from './helpers.js';

describe('listing the vault across the cluster', () => {
  it('list() is this node; list({ all }) is every file any node holds, with its copies', async () => {
    // R = 1: each file lives on its writer and one peer, so no node holds everything
    const c = await startCluster(5, { replicationFactor: 1, storageOnly: [4], api: true });
    try {
      const writers = c.nodes.slice(0, 4);
      const keys: string[] = [];
      for (let i = 0; i < 24; i++) {
        const key = `dir/file-${i}`;
        keys.push(key);
        expect((await writers[i % 4]!.store(key, pattern(key, 1000 + i))).replicas).toBe(1);
      }
      const reader = c.nodes[0]!;
      const local = (await reader.list()).map((f) => f.key);
      expect(local.length).toBeLessThan(keys.length);
      expect(local.every((k) => keys.includes(k))).toBe(true);

      const everything = await reader.list({ all: true });
      expect(everything.map((f) => f.key)).toEqual([...keys].sort());
      for (const f of everything) {
        const holders = await Promise.all(c.nodes.slice(0, 4).map((n) => n.has(f.key)));
        // storage-only node 4 cannot answer has(); its copy is the one the vault nodes lack
        const onVaultNodes = holders.filter(Boolean).length;
        expect(f.copies).toBe(2);
        expect(onVaultNodes === 2 || onVaultNodes === 1).toBe(true);
        expect(f.size).toBe(1000 + Number(f.key.split('-')[1]));
      }
      // a newer version of one file: the old copies no longer count
      await writers[1]!.store('dir/file-0', pattern('v2', 5));
      await waitFor('new version listed', async () => {
        const e = (await reader.list({ all: true })).find((f) => f.key === 'dir/file-0');
        return e?.size === 5;
      });
      const again = (await reader.list({ all: true })).find((f) => f.key === 'dir/file-0');
      expect(again?.copies).toBe(2);

      // the HTTP API gives the same with ?all=1
      const info = await readApiInfo(c.dirs[0]!);
      const res = await fetch(`${info!.url}/v1/files?all=1`, {
        headers: { authorization: `Bearer ${info!.token}` },
      });
      const body = (await res.json()) as { files: Array<{ key: string; copies: number }> };
      expect(body.files.map((f) => f.key)).toEqual([...keys].sort());
    } finally {
      await c.stop();
    }
  });

  it('leaves out files deleted everywhere, and names replayed under another id', async () => {
    const c = await startCluster(3, { api: false });
    const [a, b, d] = c.nodes as [FileServer, FileServer, FileServer];
    try {
      for (const key of ['kept', 'gone']) await a.store(key, pattern(key, 3000));
      // d is down while 'gone' is deleted everywhere, and comes back still holding it
      await d.stop();
      expect((await a.delete('gone', { everywhere: true })).deleted).toBe(true);
      const back = await startNode({
        dataDir: c.dirs[2]!,
        vaultKey: c.vaultKey,
        clusterSecret: c.clusterSecret,
        bootstrap: [a.address!],
      });
      c.nodes[2] = back;
      await waitFor('d back', async () => (await a.status()).peers.length === 2);
      expect(await back.has('gone')).toBe(true);
      // a blob on b that carries kept's sealed name under some other id
      const ns = deriveNamespace(c.vaultKey);
      const cas = new CasStore({ root: join(c.dirs[1]!, 'blobs') });
      const real = await cas.stat(ns, deriveFileId(c.vaultKey, 'kept'));
      await cas.write(ns, 'ab'.repeat(32), [Buffer.alloc(100)], { extra: real.extra! });

      const listed = await a.list({ all: true });
      expect(listed.map((f) => [f.key, f.copies])).toEqual([['kept', 3]]);
      expect((await b.list()).map((f) => f.key)).toEqual(['kept']);
    } finally {
      await c.stop();
    }
  });
});
