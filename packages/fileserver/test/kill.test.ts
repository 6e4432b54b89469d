import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { deriveFileId } from '@peerstash/crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { type FileServer, rankNodes } from '../src/index.js';
import { pattern, patternSha, sha256Of, startNode, tempDir, waitFor, walk } from './helpers.js';

const FIXTURE = new URL('./fixtures/node.mjs', import.meta.url).pathname;

async function spawnNode(
  cfg: Record<string, unknown>,
): Promise<{ child: ChildProcess; nodeId: string; address: string }> {
  const child = spawn(process.execPath, [FIXTURE, JSON.stringify(cfg)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(() => {
      throw new Error('child node exited at start');
    }),
  ])) as [string];
  const info = JSON.parse(line) as { nodeId: string; address: string };
  return { child, ...info };
}

describe('peer killed mid-transfer', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f().catch(() => {});
  });

  it('get completes from another replica when the serving peer dies', async () => {
    const vaultKey = Buffer.alloc(32, 7);
    const clusterSecret = Buffer.alloc(32, 9);
    const dirs = await Promise.all(['k', 'a', 'g'].map((p) => tempDir(p)));
    cleanup.push(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
    const b64 = (b: Buffer) => b.toString('base64');
    // the victim: dies after sending 4 MiB of a blob to a peer
    const k = await spawnNode({
      dataDir: dirs[0],
      vaultKey: b64(vaultKey),
      clusterSecret: b64(clusterSecret),
      killAfterBytes: 4 * 1024 * 1024,
    });
    cleanup.push(async () => {
      if (k.child.exitCode === null && k.child.signalCode === null) {
        k.child.kill('SIGKILL');
        await once(k.child, 'exit');
      }
    });
    const nodes: FileServer[] = [];
    cleanup.push(() => Promise.all(nodes.map((n) => n.stop())));
    for (const dir of dirs.slice(1)) {
      nodes.push(
        await startNode({ dataDir: dir, vaultKey, clusterSecret, bootstrap: [k.address] }),
      );
    }
    const [a, g] = nodes as [FileServer, FileServer];
    await waitFor('mesh', async () => {
      for (const n of nodes) if ((await n.status()).peers.length < 2) return false;
      return true;
    });
    // a key for which g asks the victim first
    let key = '';
    for (let i = 0; ; i++) {
      key = `big-${i}`;
      if (rankNodes(deriveFileId(vaultKey, key), [k.nodeId, a.nodeId])[0] === k.nodeId) break;
    }
    const size = 24 * 1024 * 1024;
    const res = await a.store(key, pattern(key, size));
    expect(res.replicas).toBe(2);
    await g.delete(key);

    const exited = once(k.child, 'exit');
    const got = await sha256Of(await g.get(key));
    expect(got).toBe(await patternSha(key, size));
    const [, signal] = await exited;
    expect(signal).toBe('SIGKILL');
    // the broken transfer's partial write was discarded before the stream ended
    const leftovers = (await walk(dirs[2]!)).filter((p) => p.endsWith('.tmp'));
    expect(leftovers).toEqual([]);
  });

  it('get continues from another replica when the serving peer freezes mid-transfer', async () => {
    const vaultKey = Buffer.alloc(32, 5);
    const clusterSecret = Buffer.alloc(32, 6);
    const dirs = await Promise.all(['f', 'b', 'h'].map((p) => tempDir(p)));
    cleanup.push(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
    const b64 = (b: Buffer) => b.toString('base64');
    // the victim stops (SIGSTOP) after sending 4 MiB: its sockets stay open and go silent
    const f = await spawnNode({
      dataDir: dirs[0],
      vaultKey: b64(vaultKey),
      clusterSecret: b64(clusterSecret),
      killAfterBytes: 4 * 1024 * 1024,
      freeze: true,
    });
    cleanup.push(async () => {
      if (f.child.exitCode === null && f.child.signalCode === null) {
        f.child.kill('SIGKILL');
        await once(f.child, 'exit');
      }
    });
    const nodes: FileServer[] = [];
    cleanup.push(() => Promise.all(nodes.map((n) => n.stop())));
    for (const dir of dirs.slice(1)) {
      nodes.push(
        await startNode({
          dataDir: dir,
          vaultKey,
          clusterSecret,
          bootstrap: [f.address],
          // only the stall watch can move the get on before the test's own timeout
          stallTimeoutMs: 1000,
          idleTimeoutMs: 300_000,
          transportLimits: {
            streamWindow: 1024 * 1024,
            pingIntervalMs: 100_000,
            idleTimeoutMs: 300_000,
          },
        }),
      );
    }
    const [b, h] = nodes as [FileServer, FileServer];
    await waitFor('mesh', async () => {
      for (const n of nodes) if ((await n.status()).peers.length < 2) return false;
      return true;
    });
    let key = '';
    for (let i = 0; ; i++) {
      key = `frozen-${i}`;
      if (rankNodes(deriveFileId(vaultKey, key), [f.nodeId, b.nodeId])[0] === f.nodeId) break;
    }
    const size = 24 * 1024 * 1024;
    expect((await b.store(key, pattern(key, size))).replicas).toBe(2);
    await h.delete(key);

    const got = await h.read(key);
    expect(got.source).toBe('peer');
    expect(await sha256Of(got.stream)).toBe(await patternSha(key, size));
    // the victim is still there, frozen: nothing but the stall watch moved the get on
    expect(f.child.exitCode).toBeNull();
    expect(f.child.signalCode).toBeNull();
    expect((await h.status()).peers.map((p) => p.id)).toContain(f.nodeId);
  });

  it('a replica that dies mid-put: the store completes with the others, nothing half-kept', async () => {
    const vaultKey = Buffer.alloc(32, 3);
    const clusterSecret = Buffer.alloc(32, 4);
    const dirs = await Promise.all(['v', 'w', 'x'].map((p) => tempDir(p)));
    cleanup.push(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
    const b64 = (b: Buffer) => b.toString('base64');
    const victim = await spawnNode({
      dataDir: dirs[0],
      vaultKey: b64(vaultKey),
      clusterSecret: b64(clusterSecret),
      killAfterBytes: 2 * 1024 * 1024,
      killOn: 'in',
    });
    cleanup.push(async () => {
      if (victim.child.exitCode === null && victim.child.signalCode === null) {
        victim.child.kill('SIGKILL');
        await once(victim.child, 'exit');
      }
    });
    const nodes: FileServer[] = [];
    cleanup.push(() => Promise.all(nodes.map((n) => n.stop())));
    for (const dir of dirs.slice(1)) {
      nodes.push(
        await startNode({ dataDir: dir, vaultKey, clusterSecret, bootstrap: [victim.address] }),
      );
    }
    const [w, x] = nodes as [FileServer, FileServer];
    await waitFor('mesh', async () => {
      for (const n of nodes) if ((await n.status()).peers.length < 2) return false;
      return true;
    });
    const exited = once(victim.child, 'exit');
    const size = 16 * 1024 * 1024;
    const res = await w.store('survives', pattern('survives', size));
    await exited;
    expect(res.replicas).toBe(1);
    expect(await x.has('survives')).toBe(true);
    expect(await sha256Of(await x.get('survives'))).toBe(await patternSha('survives', size));
    // the victim committed nothing; its leftover temp file goes when it restarts
    const blobs = await walk(join(dirs[0]!, 'blobs'));
    expect(blobs.filter((p) => p.endsWith('.blob') || p.endsWith('.meta.json'))).toEqual([]);
    const again = await startNode({ dataDir: dirs[0]!, vaultKey, clusterSecret });
    nodes.push(again);
    expect(await again.has('survives')).toBe(false);
    expect(await walk(join(dirs[0]!, 'blobs'))).toEqual([]);
  });
});
