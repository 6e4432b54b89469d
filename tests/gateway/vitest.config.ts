import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real processes and real clients on two shared cores: one file at a time.
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 90_000,
  },
});
