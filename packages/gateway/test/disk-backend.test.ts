// Runs the Backend contract against the on-disk test backend, with and without compose.

import { backendTests } from './backend-tests.js';
import { DiskBackend } from './disk-backend.js';
import { removeDir, tempDir } from './helpers.js';

for (const compose of [true, false]) {
  const dirs = new Map<DiskBackend, string>();
  backendTests({
    name: compose ? 'disk, compose' : 'disk',
    async setup() {
      const root = await tempDir('gateway-disk-');
      const backend = await new DiskBackend({ root, compose }).open();
      dirs.set(backend, root);
      return { backend, residue: () => backend.files() };
    },
    async teardown({ backend }) {
      await removeDir(dirs.get(backend as DiskBackend)!);
    },
  });
}
