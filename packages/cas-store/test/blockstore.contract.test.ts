// The js-stores contract suite, `interface-blockstore-tests`, run unchanged against CasBlockstore,
// once with a fresh root per test and once over a store that shares its root with other namespaces.

import { join } from 'node:path';
import { interfaceBlockstoreTests } from 'interface-blockstore-tests';
import { describe } from 'vitest';
import { CasBlockstore } from '../src/blockstore/index.js';
import { CasStore } from '../src/index.js';
import { NS, removeDir, tempDir } from './helpers.js';

const roots = new Map<CasBlockstore, string>();

async function teardown(store: CasBlockstore): Promise<void> {
  await store.close();
  await removeDir(roots.get(store)!);
  roots.delete(store);
}

describe('interface-blockstore-tests: CasBlockstore, own root', () => {
  interfaceBlockstoreTests({
    async setup() {
      const dir = await tempDir('cas-blockstore-');
      const store = new CasBlockstore({ root: join(dir, 'root') });
      await store.open();
      roots.set(store, dir);
      return store;
    },
    teardown,
  });
});

describe('interface-blockstore-tests: CasBlockstore beside another namespace', () => {
  interfaceBlockstoreTests({
    async setup() {
      const dir = await tempDir('cas-blockstore-shared-');
      const root = join(dir, 'root');
      const other = new CasStore({ root });
      await other.open();
      await other.write(NS, 'not a block', [Buffer.from('other data')]);
      const store = new CasBlockstore({ root, namespace: 'c'.repeat(64), concurrency: 4 });
      roots.set(store, dir);
      return store;
    },
    teardown,
  });
});
