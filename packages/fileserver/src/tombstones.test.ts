import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers.js';
import { TOMBSTONES_DIR, TombstoneStore } from './tombstones.js';

const ns = 'a'.repeat(64);
const id = 'b'.repeat(64);
const origin = 'c'.repeat(64);
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('TombstoneStore', () => {
  it('keeps tombstones across a reopen; an older one never replaces a newer', async () => {
    const dir = await tempDir('tomb');
    dirs.push(dir);
    const a = new TombstoneStore(dir);
    await a.load();
    expect(await a.put({ ns, id, deletedAt: 2000, origin })).toBe(true);
    expect(await a.put({ ns, id, deletedAt: 1000, origin })).toBe(false);
    const b = new TombstoneStore(dir);
    await b.load();
    expect(b.get(ns, id)).toEqual({ ns, id, deletedAt: 2000, origin });
    expect(b.size).toBe(1);
    // a blob written after the tombstone removes it only if the tombstone is older
    await b.remove(ns, id, 1500);
    expect(b.get(ns, id)).toBeDefined();
    await b.remove(ns, id, 2500);
    expect(b.get(ns, id)).toBeUndefined();
    expect(await readdir(join(dir, TOMBSTONES_DIR, ns))).toEqual([]);
  });

  it('prunes after the TTL and drops broken files at load', async () => {
    const dir = await tempDir('tomb');
    dirs.push(dir);
    await mkdir(join(dir, TOMBSTONES_DIR, ns), { recursive: true });
    await writeFile(join(dir, TOMBSTONES_DIR, ns, `${id}.json`), '{not json');
    await writeFile(join(dir, TOMBSTONES_DIR, ns, `${id}.123.tmp`), 'half');
    const s = new TombstoneStore(dir);
    await s.load();
    expect(s.size).toBe(0);
    expect(await readdir(join(dir, TOMBSTONES_DIR, ns))).toEqual([]);
    await s.put({ ns, id, deletedAt: 1_000, origin });
    await s.put({ ns, id: 'd'.repeat(64), deletedAt: 9_000, origin });
    expect(await s.prune(5_000, 10_000)).toBe(1);
    expect([...s.all()].map((t) => t.deletedAt)).toEqual([9_000]);
  });
});
