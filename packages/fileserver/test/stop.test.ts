import { getEventListeners } from 'node:events';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { pattern, startCluster, waitFor, walk } from './helpers.js';

// A source that sends `first` bytes, then hangs until the test lets it go (never, here).
async function* stalls(first: number): AsyncGenerator<Uint8Array> {
  yield* pattern('stalls', first);
  await new Promise(() => {});
}

describe('stop() with transfers in progress', () => {
  it('aborts writes in progress and resolves only once their temp files are gone', async () => {
    const c = await startCluster(2);
    const [a, b] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0]];
    try {
      // a's local write and b's replica write are both in progress when both nodes stop
      const storing = a.store('hangs', stalls(3 * 1024 * 1024));
      storing.catch(() => {});
      const temps = async () =>
        [...(await walk(c.dirs[0]!)), ...(await walk(c.dirs[1]!))].filter((p) =>
          p.endsWith('.tmp'),
        );
      await waitFor('both writes in progress', async () => (await temps()).length >= 2, 20_000);

      await Promise.all([a.stop(), b.stop()]);
      // nothing is still being written or cleaned up once stop() resolved
      expect(await temps()).toEqual([]);
      await expect(storing).rejects.toMatchObject({ code: 'ERR_CLOSED' });
      for (const d of c.dirs) await rm(d, { recursive: true });
    } finally {
      await c.stop();
    }
  });

  it('a store with a signal leaves no listener on it once done, stored or aborted', async () => {
    const c = await startCluster(1);
    try {
      const ac = new AbortController();
      await c.nodes[0]!.store('plain', pattern('plain', 100_000), { signal: ac.signal });
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
      const cut = new AbortController();
      const storing = c.nodes[0]!.store('cut', stalls(100_000), { signal: cut.signal });
      await sleep(50);
      cut.abort();
      await expect(storing).rejects.toMatchObject({ code: 'ERR_ABORTED' });
      expect(getEventListeners(cut.signal, 'abort')).toHaveLength(0);
    } finally {
      await c.stop();
    }
  });
});
