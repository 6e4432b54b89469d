import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { deriveFileId } from '@peerstash/crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { type FileServer, type FileServerOptions, rankNodes } from '../src/index.js';
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

  /** A child node that kills (or freezes) itself as `victim` says, meshed with two in-process nodes. */
  async function victimAndTwo(
    seed: number,
    victim: Record<string, unknown>,
    options: Partial<FileServerOptions> = {},
  ) {
    const vaultKey = Buffer.alloc(32, seed);
    const clusterSecret = Buffer.alloc(32, seed + 1);
    const dirs = await Promise.all(['v', 'x', 'y'].map((p) => tempDir(p)));
    cleanup.push(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
    const b64 = (b: Buffer) => b.toString('base64');
    const v = await spawnNode({
      dataDir: dirs[0],
      vaultKey: b64(vaultKey),
      clusterSecret: b64(clusterSecret),
      ...victim,
    });
    cleanup.push(async () => {
      if (v.child.exitCode === null && v.child.signalCode === null) {
        v.child.kill('SIGKILL');
        await once(v.child, 'exit');
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
          bootstrap: [v.address],
          ...options,
        }),
      );
    }
    await waitFor('mesh', async () => {
      for (const n of nodes) if ((await n.status()).peers.length < 2) return false;
      return true;
    });
    return {
      v,
      nodes: nodes as [FileServer, FileServer],
      dirs,
      vaultKey,
      clusterSecret,
      extra: nodes,
    };
  }

  /** A key for which a reader ranks the victim before the other holder. */
  function keyServedFirstBy(vaultKey: Buffer, victim: string, other: string, prefix: string) {
    for (let i = 0; ; i++) {
      const key = `${prefix}-${i}`;
      if (rankNodes(deriveFileId(vaultKey, key), [victim, other])[0] === victim) return key;
    }
  }

  it('get completes from another replica when the serving peer dies', async () => {
    // the victim dies after sending 4 MiB of a blob to a peer
    const { v, nodes, dirs, vaultKey } = await victimAndTwo(7, { killAfterBytes: 4 * 1024 * 1024 });
    const [a, g] = nodes;
    const key = keyServedFirstBy(vaultKey, v.nodeId, a.nodeId, 'big');
    const size = 24 * 1024 * 1024;
    const res = await a.store(key, pattern(key, size));
    expect(res.replicas).toBe(2);
    await g.delete(key);

    const exited = once(v.child, 'exit');
    const got = await sha256Of(await g.get(key));
    expect(got).toBe(await patternSha(key, size));
    const [, signal] = await exited;
    expect(signal).toBe('SIGKILL');
    // the broken transfer's partial write was discarded before the stream ended
    const leftovers = (await walk(dirs[2]!)).filter((p) => p.endsWith('.tmp'));
    expect(leftovers).toEqual([]);
  });

  it('get continues from another replica when the serving peer freezes mid-transfer', async () => {
    // the victim stops (SIGSTOP) after sending 4 MiB: its sockets stay open and go silent;
    // only the stall watch can move the get on before the test's own timeout
    const { v, nodes, vaultKey } = await victimAndTwo(
      5,
      { killAfterBytes: 4 * 1024 * 1024, freeze: true },
      {
        stallTimeoutMs: 1000,
        idleTimeoutMs: 300_000,
        transportLimits: {
          streamWindow: 1024 * 1024,
          pingIntervalMs: 100_000,
          idleTimeoutMs: 300_000,
        },
      },
    );
    const [b, h] = nodes;
    const key = keyServedFirstBy(vaultKey, v.nodeId, b.nodeId, 'frozen');
    const size = 24 * 1024 * 1024;
    expect((await b.store(key, pattern(key, size))).replicas).toBe(2);
    await h.delete(key);

    const got = await h.read(key);
    expect(got.source).toBe('peer');
    expect(await sha256Of(got.stream)).toBe(await patternSha(key, size));
    // the victim is still there, frozen: nothing but the stall watch moved the get on
    expect(v.child.exitCode).toBeNull();
    expect(v.child.signalCode).toBeNull();
    expect((await h.status()).peers.map((p) => p.id)).toContain(v.nodeId);
  });

  it('a replica that dies mid-put: the store completes with the others, nothing half-kept', async () => {
    const { v, nodes, dirs, vaultKey, clusterSecret, extra } = await victimAndTwo(3, {
      killAfterBytes: 2 * 1024 * 1024,
      killOn: 'in',
    });
    const [w, x] = nodes;
    const exited = once(v.child, 'exit');
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
    extra.push(again);
    expect(await again.has('survives')).toBe(false);
    expect(await walk(join(dirs[0]!, 'blobs'))).toEqual([]);
  });
});
