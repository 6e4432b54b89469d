// Test harness: in-process clusters of real FileServers on 127.0.0.1 port 0 with temp data dirs,
// deterministic pseudo-random content streamed in pieces, and polling helpers for a loaded machine.

import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { TcpTransport } from '@peerstash/transport-tcp';
import { pino } from 'pino';
import { FileServer, type FileServerOptions } from '../src/index.js';

export const silent = pino({ level: 'silent' });

export async function tempDir(prefix = 'node'): Promise<string> {
  return mkdtemp(join(tmpdir(), `peerstash-fs-${prefix}-`));
}

export interface Cluster {
  nodes: FileServer[];
  dirs: string[];
  vaultKey: Buffer;
  clusterSecret: Buffer;
  stop(): Promise<void>;
}

export interface ClusterOptions extends Partial<FileServerOptions> {
  /** Indexes of nodes started without the vault key. */
  storageOnly?: number[];
  /** Each node bootstraps only from the previous one (tests peer exchange). */
  chain?: boolean;
  secure?: boolean;
}

export async function startNode(
  options: Partial<FileServerOptions> & { dataDir: string },
): Promise<FileServer> {
  // no background repair unless a test asks for it: other tests count copies and transfers exactly
  const node = new FileServer({
    listen: '127.0.0.1:0',
    logger: silent,
    api: false,
    repairIntervalMs: 0,
    ...options,
  });
  await node.start();
  return node;
}

export async function startCluster(n: number, options: ClusterOptions = {}): Promise<Cluster> {
  const { storageOnly = [], chain = false, secure = true, ...rest } = options;
  const vaultKey = randomBytes(32);
  const clusterSecret = randomBytes(32);
  const nodes: FileServer[] = [];
  const dirs: string[] = [];
  const cluster: Cluster = {
    nodes,
    dirs,
    vaultKey,
    clusterSecret,
    async stop() {
      await Promise.all(nodes.map((x) => x.stop()));
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
  try {
    for (let i = 0; i < n; i++) {
      const dir = await tempDir(`n${i}`);
      dirs.push(dir);
      const boot = i === 0 ? [] : [nodes[chain ? i - 1 : 0]!.address!];
      nodes.push(
        await startNode({
          dataDir: dir,
          bootstrap: boot,
          ...(storageOnly.includes(i) ? {} : { vaultKey }),
          ...(secure ? { clusterSecret } : {}),
          ...rest,
        }),
      );
    }
    await waitFor('full mesh', async () => {
      for (const node of nodes) if ((await node.status()).peers.length < n - 1) return false;
      return true;
    });
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Deterministic pseudo-random bytes in pieces of up to 256 KiB; never the whole file at once. */
export async function* pattern(seed: string, size: number): AsyncGenerator<Uint8Array> {
  let left = size;
  let i = 0;
  while (left > 0) {
    const block = createHash('sha512').update(`${seed}:${i++}`).digest();
    const piece = Buffer.allocUnsafe(Math.min(left, 256 * 1024));
    for (let off = 0; off < piece.length; off += block.length) block.copy(piece, off);
    left -= piece.length;
    yield piece;
  }
}

export async function sha256Of(source: AsyncIterable<Uint8Array> | Readable): Promise<string> {
  const h = createHash('sha256');
  for await (const c of source) h.update(c as Uint8Array);
  return h.digest('hex');
}

export async function patternSha(seed: string, size: number): Promise<string> {
  return sha256Of(pattern(seed, size));
}

/** Every file under dir, recursively. */
export async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

/** Blob files (not metadata) of a node's data dir. */
export async function blobFiles(dataDir: string): Promise<string[]> {
  return (await walk(join(dataDir, 'blobs'))).filter((p) => p.endsWith('.blob'));
}

/** Flips the lowest bit of the byte at `at` in a file on disk (bit rot, for the tests). */
export async function flipByte(path: string, at: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    b[0] = b[0]! ^ 0x01;
    await fh.write(b, 0, 1, at);
  } finally {
    await fh.close();
  }
}

/** A bare transport, listening, for a peer the test plays: the cluster secret and its own node id. */
export async function rawPeer(secret: Uint8Array, nodeId: string): Promise<TcpTransport> {
  const transport = new TcpTransport({ nodeId, secret });
  await transport.listen();
  return transport;
}
