// An n-node cluster for one test file: init the first node, join the others to it, start them all
// as real `peerstash serve` children linked over TLS-PSK on 127.0.0.1; everything removed after.

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { type NodeProcess, startNode, waitForPeers } from '../src/child-node.js';
import { runCli, tempDir } from './helpers.js';

export interface Cluster {
  root: string;
  dirs: string[];
  nodes: NodeProcess[];
}

/** Registers the hooks of the file it is called in; the fields are set once beforeAll ran. */
export function useCluster(name: string, n: number, serveArgs: string[] = []): Cluster {
  const c = { dirs: [], nodes: [] } as unknown as Cluster;
  beforeAll(async () => {
    c.root = await tempDir(name);
    c.dirs = Array.from({ length: n }, (_, i) => join(c.root, `n${i}`));
    const [first, ...rest] = c.dirs as [string, ...string[]];
    expect((await runCli(['init', '--dir', first, '--listen', '127.0.0.1:0'])).code).toBe(0);
    for (const dir of rest) {
      const keys = join(first, 'keys.json');
      expect((await runCli(['init', '--dir', dir, '--join', keys])).code).toBe(0);
    }
    const a = await startNode({ dir: first, args: serveArgs, timeoutMs: 30_000 });
    const others = await Promise.all(
      rest.map((dir) =>
        startNode({ dir, args: ['--bootstrap', a.listen, ...serveArgs], timeoutMs: 30_000 }),
      ),
    );
    c.nodes = [a, ...others];
    await waitForPeers(c.nodes, n - 1, 30_000);
  });
  afterAll(async () => {
    await Promise.all(c.nodes.map((node) => node.stop()));
    if (c.root) await rm(c.root, { recursive: true, force: true });
  });
  return c;
}
