// The gateway's Backend contract (packages/gateway/test/backend-tests.ts) run against
// FileServerBackend over a real 1-node and 3-node FileServer cluster (real sockets, temp dirs).

import { join } from 'node:path';
import { backendTests } from '../../../../packages/gateway/test/backend-tests.js';
import type { FileServerBackend } from '../../src/gateway/backend.js';
import { SPOOL_DIR } from '../../src/gateway/part-spool.js';
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
