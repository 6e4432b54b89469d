// Real FileServer clusters for the gateway backend tests: n nodes on 127.0.0.1 port 0 in temp
// dirs, one vault key and cluster secret, meshed before use; and the backend over node 0.

import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileServer } from '@peerstash/fileserver';
import pino from 'pino';
import { FileServerBackend } from '../../src/gateway/backend.js';
import { PartSpool, SPOOL_DIR } from '../../src/gateway/part-spool.js';

export async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

export interface Cluster {
  nodes: FileServer[];
  dirs: string[];
  vaultKey: Buffer;
  clusterSecret: Buffer;
}

export function startNode(c: Cluster, dataDir: string, bootstrap: string[]): Promise<FileServer> {
  const node = new FileServer({
    dataDir,
    listen: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
    api: false,
    repairIntervalMs: 0,
    vaultKey: c.vaultKey,
    clusterSecret: c.clusterSecret,
    replication: Math.min(2, c.dirs.length - 1),
    bootstrap,
  });
  return node.start().then(() => node);
}

export async function meshed(nodes: FileServer[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const counts = await Promise.all(nodes.map(async (x) => (await x.status()).peers.length));
    if (counts.every((n) => n >= nodes.length - 1)) return;
    if (Date.now() > deadline) throw new Error('the cluster did not mesh');
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startCluster(n: number): Promise<Cluster> {
  const c: Cluster = {
    nodes: [],
    dirs: [],
    vaultKey: randomBytes(32),
    clusterSecret: randomBytes(32),
  };
  for (let i = 0; i < n; i++) c.dirs.push(await mkdtemp(join(tmpdir(), 'cli-gw-')));
  for (let i = 0; i < n; i++) {
    c.nodes.push(await startNode(c, c.dirs[i]!, i === 0 ? [] : [c.nodes[0]!.address!]));
  }
  await meshed(c.nodes);
  return c;
}

export async function stopCluster(c: Cluster): Promise<void> {
  await Promise.all(c.nodes.map((x) => x.stop()));
  await Promise.all(c.dirs.map((d) => rm(d, { recursive: true, force: true })));
}

/** The node's backend as `peerstash serve` makes it: parts in <dataDir>/gateway/parts. */
export function backendOf(c: Cluster, i = 0): Promise<FileServerBackend> {
  const spool = new PartSpool({ dir: join(c.dirs[i]!, SPOOL_DIR), vaultKey: c.vaultKey });
  return new FileServerBackend(c.nodes[i]!, spool).open();
}

/** Every key in a node's catalog. */
export async function catalogKeys(node: FileServer): Promise<string[]> {
  const keys: string[] = [];
  let after: string | undefined;
  do {
    const page = await node.listPage({ limit: 10_000, ...(after ? { after } : {}) });
    keys.push(...page.files.map((f) => f.key));
    after = page.next;
  } while (after !== undefined);
  return keys;
}
