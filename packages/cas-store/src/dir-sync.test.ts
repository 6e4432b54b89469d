import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirSync } from './dir-sync.js';

describe('DirSync (group commit of folder fsyncs)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dir-sync-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('answers callers that arrive during a running fsync with one more fsync', async () => {
    const ds = new DirSync();
    const first = ds.sync(dir);
    // these arrive while the first runs: they share the next fsync, which starts after it
    const rest = Array.from({ length: 9 }, () => ds.sync(dir));
    await Promise.all([first, ...rest]);
    expect(ds.callers).toBe(10);
    expect(ds.syncs).toBe(2);
    // once idle, a caller starts its own fsync at once
    await ds.sync(dir);
    expect(ds.syncs).toBe(3);
  });

  it('keeps folders apart and fails every caller of a failed fsync', async () => {
    const ds = new DirSync();
    const other = join(dir, 'missing');
    const results = await Promise.allSettled([
      ds.sync(dir),
      ds.sync(other),
      ds.sync(other),
      ds.sync(other),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected']);
    expect(ds.syncs).toBe(3);
  });
});
