#!/usr/bin/env node
// The installed `peerstash` command: a file kept in git, so pnpm links the bin even before `dist`
// is built (a fresh `pnpm install` stays quiet); the program itself is dist/bin.js.

try {
  await import('../dist/bin.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/bin.js')) {
    throw err;
  }
  process.stderr.write('peerstash: this checkout is not built yet; run "pnpm build" first\n');
  process.exitCode = 1;
}
