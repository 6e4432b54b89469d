#!/usr/bin/env -S node --initial-old-space-size=64 --max-semi-space-size=4
// The installed `peerstash` command: a file kept in git, so pnpm links the bin even before `dist`
// is built (a fresh `pnpm install` stays quiet); the program itself is dist/bin.js. The shebang
// carries @peerstash/fileserver's NODE_FLAGS (heap sizing must be given at start; see there).

try {
  await import('../dist/bin.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/bin.js')) {
    throw err;
  }
  process.stderr.write('peerstash: this checkout is not built yet; run "pnpm build" first\n');
  process.exitCode = 1;
}
