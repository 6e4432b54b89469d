// A get whose local copy cannot be written (the write fails before reading its source) must
// still deliver the file: the fan-out must drop the dead secondary rather than wait on it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { casPathTransform } from '@peerstash/cas-store';
import { deriveFileId, deriveNamespace } from '@peerstash/crypto';
import { afterAll, expect, it } from 'vitest';
import type { FileServer } from '../src/index.js';
import { type Cluster, pattern, patternSha, sha256Of, startCluster } from './helpers.js';

let cluster: Cluster | undefined;
afterAll(() => cluster?.stop());

it('a get completes when its local copy cannot be written', async () => {
  cluster = await startCluster(2, { idleTimeoutMs: 3000 });
  const [a, g] = cluster.nodes as [FileServer, FileServer];
  const key = 'blocked';
  const size = 8 * 1024 * 1024;
  await a.store(key, pattern(key, size));
  await g.delete(key);
  // a plain file where the blob's first folder level goes: mkdir fails (ENOTDIR/EEXIST) at once
  const id = deriveFileId(cluster.vaultKey, key);
  const { pathName } = casPathTransform(id);
  const nsDir = join(cluster.dirs[1]!, 'blobs', deriveNamespace(cluster.vaultKey));
  await writeFile(join(nsDir, pathName.split('/')[0]!), 'x');
  // before the fix: TimeoutError 'replica fetch: no data for 3000 ms'
  const got = await sha256Of(await g.get(key));
  expect(got).toBe(await patternSha(key, size));
});
