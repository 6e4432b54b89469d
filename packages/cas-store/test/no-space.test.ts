import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from './helpers.js';

const run = promisify(execFile);
const filler = fileURLToPath(new URL('./fixtures/fill-disk.mjs', import.meta.url));

describe('disk full', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('cas-nospace-');
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('maps ENOSPC to ERR_NO_SPACE, keeps nothing of the failed write and keeps older blobs', async () => {
    // A 1 MiB tmpfs in a private user+mount namespace: a real full disk, visible to the child only.
    const script = 'mount -t tmpfs -o size=1m tmpfs "$1" && exec "$2" "$3" "$1/root"';
    const { stdout } = await run('unshare', [
      '-rm',
      'sh',
      '-c',
      script,
      'sh',
      dir,
      process.execPath,
      filler,
    ]);
    const result = JSON.parse(stdout);
    expect(result.code).toBe('ERR_NO_SPACE');
    expect(result.small).toBe(true);
    expect(result.huge).toBe(false);
    expect(result.files.filter((n: string) => n.endsWith('.tmp'))).toEqual([]);
    expect(result.files).toHaveLength(2);
  });
});
