// The gateway's Backend contract (packages/gateway/test/backend-tests.ts) run against
// FileServerBackend over a real 1-node and 3-node FileServer cluster (real sockets, temp dirs).

import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileServer } from '@peerstash/fileserver';
import pino from 'pino';
import { backendTests } from '../../../../packages/gateway/test/backend-tests.js';
import { FileServerBackend } from '../../src/gateway/backend.js';

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

interface Running {
  nodes: FileServer[];
  dirs: string[];
}

async function startCluster(n: number): Promise<Running> {
  const vaultKey = randomBytes(32);
  const clusterSecret = randomBytes(32);
  const nodes: FileServer[] = [];
  const dirs: string[] = [];
  for (let i = 0; i < n; i++) {
    const dataDir = await mkdtemp(join(tmpdir(), 'cli-gw-'));
    dirs.push(dataDir);
    const node = new FileServer({
      dataDir,
      listen: '127.0.0.1:0',
      logger: pino({ level: 'silent' }),
      api: false,
      repairIntervalMs: 0,
      vaultKey,
      clusterSecret,
      replication: Math.min(2, n - 1),
      bootstrap: i === 0 ? [] : [nodes[0]!.address!],
    });
    await node.start();
    nodes.push(node);
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    const counts = await Promise.all(nodes.map(async (x) => (await x.status()).peers.length));
    if (counts.every((c) => c >= n - 1)) break;
    if (Date.now() > deadline) throw new Error('the cluster did not mesh');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { nodes, dirs };
}

for (const size of [1, 3]) {
  const clusters = new Map<FileServerBackend, Running>();
  backendTests({
    name: `FileServer, ${size} node${size > 1 ? 's' : ''}`,
    async setup() {
      const cluster = await startCluster(size);
      const backend = new FileServerBackend(cluster.nodes[0]!);
      clusters.set(backend, cluster);
      return {
        backend,
        // blobs and catalog records on every node: a failed write must add neither
        async residue() {
          const files: string[] = [];
          for (const node of cluster.nodes) {
            let after: string | undefined;
            do {
              const page = await node.listPage({ limit: 10_000, ...(after ? { after } : {}) });
              files.push(...page.files.map((f) => `${node.nodeId}:${f.key}`));
              after = page.next;
            } while (after !== undefined);
          }
          for (const dir of cluster.dirs) {
            files.push(
              ...(await walk(dir)).filter((f) => f.includes('blobs') && !f.includes('tmp')),
            );
          }
          return files.sort();
        },
      };
    },
    async teardown({ backend }) {
      const cluster = clusters.get(backend as FileServerBackend)!;
      await Promise.all(cluster.nodes.map((x) => x.stop()));
      await Promise.all(cluster.dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  });
}
