// restic backs up a real many-small-files tree (packages from the repo's own node_modules)
// through the gateway of a 3-node cluster (R=2), then checks every byte and restores it.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ok } from '../../../packages/gateway/test/clients.js';
import { stopCluster, tempDir } from '../../cluster/test/harness.js';
import { type GatewayCluster, startGatewayCluster } from './cluster.js';
import { nodeModulesTree, resticEnv, restoreAndDiff, snapshots } from './trees.js';

let c: GatewayCluster;
let work: string;

beforeAll(async () => {
  c = await startGatewayCluster();
  work = await tempDir('gw-nm');
});
afterAll(async () => {
  if (c) await stopCluster(c.nodes);
  if (work) await rm(work, { recursive: true, force: true });
});

test('restic backup of node_modules packages: snapshots, check --read-data, restore, diff -r', async () => {
  const src = join(work, 'node_modules');
  const tree = await nodeModulesTree(src, { maxFiles: 8000 });
  // A tree of thousands of small files in hundreds of folders, or the test proves nothing.
  expect(tree.files).toBeGreaterThanOrEqual(5000);
  expect(tree.packages).toBeGreaterThanOrEqual(20);
  console.log(
    `tree: ${tree.files} files, ${(tree.bytes / 1048576).toFixed(1)} MiB, ${tree.packages} packages`,
  );
  const env = resticEnv(c, 'nm', work);
  await ok('restic', ['init'], { env });
  let t = Date.now();
  const first = await ok('restic', ['backup', '--host', 'h', '--json', src], { env });
  const summary = JSON.parse(first.stdout.trim().split('\n').at(-1)!) as {
    message_type: string;
    total_files_processed: number;
    files_new: number;
  };
  expect(summary.message_type).toBe('summary');
  expect(summary.total_files_processed).toBe(tree.files);
  console.log(`backup: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  // A second backup of the unchanged tree adds a snapshot and no new files.
  const again = await ok('restic', ['backup', '--host', 'h', '--json', src], { env });
  const second = JSON.parse(again.stdout.trim().split('\n').at(-1)!) as { files_new: number };
  expect(second.files_new).toBe(0);
  const snaps = await snapshots(env);
  expect(snaps).toHaveLength(2);
  expect(snaps[0]!.paths).toEqual([src]);
  t = Date.now();
  await ok('restic', ['check', '--read-data'], { env });
  console.log(`check --read-data: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  t = Date.now();
  await restoreAndDiff(env, src, join(work, 'restored'));
  console.log(`restore + diff: ${((Date.now() - t) / 1000).toFixed(1)} s`);
});
