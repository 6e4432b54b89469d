// The benchmarks' bulk path: the same records written into stopped nodes' catalogs, which then
// start in sync (an idle round is one short exchange) and list and stat the files.

import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { bulkLoadCatalog, type FileServer } from '../src/index.js';
import { startNode, tempDir } from './helpers.js';

const dirs: string[] = [];
const nodes: FileServer[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('bulkLoadCatalog', () => {
  it('fills stopped nodes with the same records; they start in sync and answer for them', async () => {
    const vaultKey = randomBytes(32);
    const clusterSecret = randomBytes(32);
    for (let i = 0; i < 2; i++) dirs.push(await tempDir(`bulk${i}`));
    function* files() {
      for (let i = 0; i < 3000; i++) yield { key: `f/${i % 3}/k${i}`, size: i };
    }
    expect(await bulkLoadCatalog(dirs, { vaultKey, files: files(), batch: 700 })).toBe(3000);
    for (const [i, dir] of dirs.entries()) {
      const boot = i === 0 ? [] : [nodes[0]!.address!];
      nodes.push(await startNode({ dataDir: dir, vaultKey, clusterSecret, bootstrap: boot }));
    }
    const [a, b] = nodes as [FileServer, FileServer];
    const page = await b.listPage({ prefix: 'f/', delimiter: '/' });
    expect(page.prefixes).toEqual(['f/0/', 'f/1/', 'f/2/']);
    expect((await a.info('f/1/k1000')).size).toBe(1000);
    expect((await a.status()).catalog.files).toBe(3000);
    while ((await b.status()).peers.length < 1) await new Promise((r) => setTimeout(r, 20));
    const before = (await b.status()).repairSummaryBytes;
    await b.repair();
    // in sync from the start: the round is one roots exchange (and an empty blob summary)
    expect((await b.status()).repairSummaryBytes - before).toBeLessThan(1000);
  });
});
