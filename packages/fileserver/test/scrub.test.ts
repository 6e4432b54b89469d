import { open, truncate } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  blobFiles,
  flipByte,
  pattern,
  patternSha,
  sha256Of,
  startCluster,
  waitFor,
} from './helpers.js';

describe('background scrubbing', () => {
  it('finds flipped and truncated local copies, drops them, and repair brings sound ones back', async () => {
    // rounds twice a second: the copy a scrub drops comes back by itself
    const c = await startCluster(3, { repairIntervalMs: 500 });
    const [a, b, d] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0], (typeof c.nodes)[0]];
    try {
      const size = 3 * 1024 * 1024 + 5;
      expect((await a.store('rot', pattern('rot', size))).replicas).toBe(2);
      expect((await a.store('kept', pattern('kept', 1000))).replicas).toBe(2);
      const want = await patternSha('rot', size);
      const blobOf = async (dir: string) => {
        for (const p of await blobFiles(dir)) {
          const fh = await open(p, 'r');
          const { size: n } = await fh.stat();
          await fh.close();
          if (n > size) return p;
        }
        throw new Error('no blob of rot');
      };
      await flipByte(await blobOf(c.dirs[1]!), 2_000_000);
      await truncate(await blobOf(c.dirs[2]!), 1_000_000);

      // a sound node finds nothing; the others each find their one rotten copy and drop it
      expect(await a.scrub()).toMatchObject({ checked: 2, rotten: 0 });
      expect(await b.scrub()).toMatchObject({ checked: 2, rotten: 1, dropped: 1 });
      expect(await d.scrub()).toMatchObject({ checked: 2, rotten: 1, dropped: 1 });
      expect(await b.has('kept')).toBe(true);
      const st = await b.status();
      expect(st.scrubRotten).toBe(1);
      expect(st.lastScrubAt).not.toBeNull();

      // repair replaces them from the sound copy; a second pass finds every copy sound
      await waitFor('copies restored', async () => (await b.has('rot')) && (await d.has('rot')));
      for (const n of [b, d]) {
        expect(await n.scrub()).toMatchObject({ checked: 2, rotten: 0 });
        const got = await n.read('rot');
        expect(got.source).toBe('local');
        expect(await sha256Of(got.stream)).toBe(want);
      }
    } finally {
      await c.stop();
    }
  });

  it('runs by itself every scrubIntervalMs, and repair rounds restore the copy', async () => {
    const c = await startCluster(2, { scrubIntervalMs: 200, repairIntervalMs: 300 });
    const [a, b] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0]];
    try {
      expect((await a.store('auto', pattern('auto', 500_000))).replicas).toBe(1);
      const [blob] = await blobFiles(c.dirs[1]!);
      await flipByte(blob!, 100_000);
      await waitFor('rotten copy found', async () => (await b.status()).scrubRotten === 1);
      await waitFor('copy restored', async () => b.has('auto'));
      await waitFor('restored copy scrubbed sound', async () => {
        const r = await b.scrub();
        return r.checked === 1 && r.rotten === 0;
      });
      expect(await sha256Of(await b.get('auto'))).toBe(await patternSha('auto', 500_000));
    } finally {
      await c.stop();
    }
  });

  it('with R = 0 a rotten copy is reported and kept; a month-long interval is not a 1 ms one', async () => {
    const c = await startCluster(1, { replicationFactor: 0, scrubIntervalMs: 30 * 86_400_000 });
    const [n] = c.nodes as [(typeof c.nodes)[0]];
    try {
      await n.store('only', pattern('only', 200_000));
      const [blob] = await blobFiles(c.dirs[0]!);
      await flipByte(blob!, 50_000);
      await new Promise((r) => setTimeout(r, 300));
      // setTimeout would have turned 30 days into 1 ms: passes back to back
      expect((await n.status()).lastScrubAt).toBeNull();
      expect(await n.scrub()).toMatchObject({ checked: 1, rotten: 1, dropped: 0 });
      expect(await n.has('only')).toBe(true);
      await expect(new Promise((r, j) => n.get('only').then(r, j))).rejects.toMatchObject({
        code: 'ERR_INTEGRITY',
      });
    } finally {
      await c.stop();
    }
  });
});
