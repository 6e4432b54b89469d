import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // one browser and three nodes share the machine's two cores: one file at a time
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 90_000,
  },
});
