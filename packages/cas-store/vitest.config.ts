import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // interface-blockstore-tests imports its assertions from aegir, the mocha-based runner it was
    // written for; test/aegir-chai.ts sets up the same chai and plugins (see the README).
    alias: { 'aegir/chai': fileURLToPath(new URL('./test/aegir-chai.ts', import.meta.url)) },
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The suite calls mocha's describe/it/beforeEach/afterEach as globals.
    globals: true,
    // Inlined so the alias above applies inside the suite's own module.
    server: { deps: { inline: ['interface-blockstore-tests'] } },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
