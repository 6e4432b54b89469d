import { describe, expect, it } from 'vitest';
import { runPool } from './pool.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('runPool', () => {
  it('runs every item, never more than `size` at once', async () => {
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    await runPool(
      Array.from({ length: 50 }, (_, i) => i),
      async (i) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await tick();
        seen.push(i);
        inFlight--;
      },
      { size: 4 },
    );
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(most).toBe(4);
  });

  it('pulls items only as workers free up', async () => {
    let pulled = 0;
    let done = 0;
    let most = 0;
    async function* source() {
      for (let i = 0; i < 20; i++) {
        pulled++;
        most = Math.max(most, pulled - done);
        yield i;
      }
    }
    await runPool(
      source(),
      async () => {
        await tick();
        done++;
      },
      { size: 3 },
    );
    expect(pulled).toBe(20);
    // at most one item pulled ahead per worker
    expect(most).toBeLessThanOrEqual(3);
  });

  it('a failing item stops the pool: no new item starts, the first error is thrown, the source is closed', async () => {
    let closed = false;
    const started: number[] = [];
    async function* source() {
      try {
        for (let i = 0; i < 1000; i++) yield i;
      } finally {
        closed = true;
      }
    }
    await expect(
      runPool(
        source(),
        async (i) => {
          started.push(i);
          await tick();
          if (i === 5) throw Object.assign(new Error('boom'), { code: 'ERR_X' });
        },
        { size: 2 },
      ),
    ).rejects.toMatchObject({ code: 'ERR_X' });
    expect(started.length).toBeLessThan(10);
    expect(closed).toBe(true);
  });

  it('an abort stops it with the reason', async () => {
    const ac = new AbortController();
    let ran = 0;
    const reason = Object.assign(new Error('stop'), { code: 'ERR_ABORTED' });
    await expect(
      runPool(
        Array.from({ length: 100 }, (_, i) => i),
        async (i) => {
          ran++;
          if (i === 3) ac.abort(reason);
          await tick();
        },
        { size: 2, signal: ac.signal },
      ),
    ).rejects.toBe(reason);
    expect(ran).toBeLessThan(10);
  });
});
