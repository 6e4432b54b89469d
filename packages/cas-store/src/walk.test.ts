import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { walkDirs } from './walk.js';

describe('walkDirs', () => {
  it('yields every folder once with its entries, however deep or wide', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cas-walk-'));
    try {
      const expected = new Set<string>([root]);
      for (let i = 0; i < 40; i++) {
        let d = root;
        for (const part of [`a${i % 5}`, `b${i}`, 'c', 'd']) {
          d = join(d, part);
          expected.add(d);
        }
        await mkdir(d, { recursive: true });
        await writeFile(join(d, 'f'), '');
      }
      const seen: string[] = [];
      let files = 0;
      for await (const { dir, entries } of walkDirs(root, 3)) {
        seen.push(dir);
        files += entries.filter((e) => e.isFile()).length;
      }
      expect(seen.sort()).toEqual([...expected].sort());
      expect(files).toBe(40);
      const none = [];
      for await (const x of walkDirs(join(root, 'missing'))) none.push(x);
      expect(none).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
