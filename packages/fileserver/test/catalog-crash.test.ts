// Kill -9 during a burst of puts: after the restart (and its background reconcile walk) the
// catalog, the holdings index and the blobs on disk agree, on the node and on its peer.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { openBytes } from '@peerstash/crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { type FileServer, readApiInfo } from '../src/index.js';
import { pattern, patternSha, sha256Of, startNode, tempDir, waitFor, walk } from './helpers.js';

const FIXTURE = new URL('./fixtures/node.mjs', import.meta.url).pathname;

async function spawnNode(cfg: Record<string, unknown>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [FIXTURE, JSON.stringify(cfg)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(() => {
      throw new Error('child node exited at start');
    }),
  ]);
  return child;
}

const sizeOf = (i: number) => 1000 + ((i * 7919) % 20_000);

/** The plaintext keys of the blobs on a node's disk (their sealed names opened). */
async function keysOnDisk(dataDir: string, vaultKey: Buffer): Promise<string[]> {
  const out: string[] = [];
  for (const f of await walk(dataDir)) {
    if (!f.endsWith('.meta.json')) continue;
    const meta = JSON.parse(await readFile(f, 'utf8')) as { extra: { name: string } };
    out.push(openBytes(vaultKey, Buffer.from(meta.extra.name, 'base64')).toString('utf8'));
  }
  return out.sort();
}

describe('kill -9 during a burst of puts', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f().catch(() => {});
  });

  it('after the restart the listing, the holdings index and the blobs agree', async () => {
    const vaultKey = Buffer.alloc(32, 7);
    const clusterSecret = Buffer.alloc(32, 8);
    const [dir, peerDir] = await Promise.all([tempDir('crash'), tempDir('crash-peer')]);
    cleanup.push(() => Promise.all([dir, peerDir].map((d) => rm(d, { recursive: true, force: true }))));
    const peer = await startNode({ dataDir: peerDir, vaultKey, clusterSecret, replicationFactor: 1 });
    cleanup.push(() => peer.stop());
    const child = await spawnNode({
      dataDir: dir,
      vaultKey: vaultKey.toString('base64'),
      clusterSecret: clusterSecret.toString('base64'),
      bootstrap: [peer.address],
      api: true,
    });
    cleanup.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    await waitFor('mesh', async () => (await peer.status()).peers.length === 1);
    const api = (await readApiInfo(dir))!;

    // eight writers at once; the process is killed once 60 puts were acknowledged
    const acked: string[] = [];
    let next = 0;
    const killed = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const writer = async () => {
      while (next < 400) {
        const i = next++;
        const key = `burst/${String(i).padStart(3, '0')}`;
        const parts: Uint8Array[] = [];
        for await (const p of pattern(key, sizeOf(i))) parts.push(p);
        const body = Buffer.concat(parts);
        try {
          const res = await fetch(`${api.url}/v1/files/${encodeURIComponent(key)}`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${api.token}` },
            body,
          });
          if (res.status !== 201) return;
          acked.push(key);
          if (acked.length === 60) child.kill('SIGKILL');
        } catch {
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, writer));
    await killed;
    expect(acked.length).toBeGreaterThanOrEqual(60);

    const node: FileServer = await startNode({
      dataDir: dir,
      vaultKey,
      clusterSecret,
      replicationFactor: 1,
      bootstrap: [peer.address!],
    });
    cleanup.push(() => node.stop());
    // the catalog was not closed: the holdings are reconciled with a walk, in the background
    await waitFor('reconciled', async () => !(await node.status()).reconciling);
    await waitFor('mesh again', async () => (await node.status()).peers.length === 1);
    await node.repair();
    await peer.repair();

    const listed = (await node.listPage({ limit: 10_000 })).files.map((f) => f.key);
    const onDisk = await keysOnDisk(dir, vaultKey);
    // every acknowledged put is listed; every stored file is listed; nothing else is
    for (const key of acked) expect(listed).toContain(key);
    for (const key of onDisk) expect(listed).toContain(key);
    const st = await node.status();
    expect(st.blobs).toBe(onDisk.length);
    expect((await node.list()).map((f) => f.key)).toEqual(onDisk);
    // every listed file reads back whole (from this node or its peer)
    for (const key of listed) {
      const i = Number(key.slice(6));
      expect(await sha256Of(await node.get(key)), key).toBe(await patternSha(key, sizeOf(i)));
    }
    // and the peer lists the same
    expect((await peer.listPage({ limit: 10_000 })).files.map((f) => f.key)).toEqual(listed);
  });
});
