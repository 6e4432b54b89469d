// The gateway's Backend contract (packages/gateway/test/backend-tests.ts) run against
// FileServerBackend over a real 1-node and 3-node FileServer cluster (real sockets, temp dirs),
// and against its part spool alone.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, ListPage, ObjectInfo } from '@peerstash/gateway';
import { backendTests } from '../../../../packages/gateway/test/backend-tests.js';
import type { FileServerBackend } from '../../src/gateway/backend.js';
import { PARTS_PREFIX, PartSpool, SPOOL_DIR } from '../../src/gateway/part-spool.js';
import {
  backendOf,
  type Cluster,
  catalogKeys,
  startCluster,
  stopCluster,
  walk,
} from './cluster.js';

for (const size of [1, 3]) {
  const clusters = new Map<FileServerBackend, Cluster>();
  backendTests({
    // parts under .s3/parts/ live in node 0's spool; compose stores them as one object
    name: `FileServer, ${size} node${size > 1 ? 's' : ''}, spooled parts and compose`,
    async setup() {
      const cluster = await startCluster(size);
      const backend = await backendOf(cluster);
      clusters.set(backend, cluster);
      return {
        backend,
        // blobs and catalog records on every node, and spooled parts: a failed write adds none
        async residue() {
          const files: string[] = [];
          for (const node of cluster.nodes) {
            files.push(...(await catalogKeys(node)).map((k) => `${node.nodeId}:${k}`));
          }
          for (const dir of cluster.dirs) {
            files.push(
              ...(await walk(dir)).filter(
                (f) =>
                  (f.includes('blobs') && !f.includes('tmp')) || f.includes(join(dir, SPOOL_DIR)),
              ),
            );
          }
          return files.sort();
        },
      };
    },
    async teardown({ backend }) {
      await stopCluster(clusters.get(backend as FileServerBackend)!);
    },
  });
}

// The spool alone, every contract key moved under the parts prefix (what the gateway keeps there)
const spools = new Map<Backend, { dir: string; spool: PartSpool }>();
const inner = (k: string) => `${PARTS_PREFIX}${k}`;
const outer = (e: ObjectInfo): ObjectInfo => ({ ...e, key: e.key.slice(PARTS_PREFIX.length) });
backendTests({
  name: 'part spool (keys under .s3/parts/)',
  async setup() {
    const dir = await mkdtemp(join(tmpdir(), 'cli-gw-spool-'));
    const spool = new PartSpool({ dir, vaultKey: randomBytes(32) });
    await spool.open();
    const backend: Backend = {
      async list(o) {
        const page = await spool.list({
          ...o,
          prefix: inner(o.prefix),
          ...(o.after !== undefined ? { after: inner(o.after) } : {}),
        });
        const out: ListPage = {
          entries: page.entries.map(outer),
          prefixes: page.prefixes.map((p) => p.slice(PARTS_PREFIX.length)),
        };
        if (page.next !== undefined) out.next = page.next.slice(PARTS_PREFIX.length);
        return out;
      },
      stat: async (k) => {
        const e = await spool.stat(inner(k));
        return e && outer(e);
      },
      read: async (k, o) => {
        const r = await spool.read(inner(k), o);
        return { stream: r.stream, info: outer(r.info) };
      },
      write: (k, source, o) => spool.write(inner(k), source, o),
      delete: (k) => spool.delete(inner(k)),
    };
    spools.set(backend, { dir, spool });
    return { backend, residue: () => spool.files() };
  },
  async teardown({ backend }) {
    await rm(spools.get(backend)!.dir, { recursive: true, force: true });
  },
});
