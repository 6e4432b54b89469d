import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { orderedWindow } from './ordered-window.js';

function tracker() {
  let now = 0;
  let peak = 0;
  return {
    get peak() {
      return peak;
    },
    async run<T>(value: T, ms: number): Promise<T> {
      now++;
      peak = Math.max(peak, now);
      await sleep(ms);
      now--;
      return value;
    },
  };
}

describe('orderedWindow', () => {
  it('yields results in input order with at most `limit` jobs in flight', async () => {
    const t = tracker();
    const out: number[] = [];
    const delays = [30, 1, 20, 1, 5, 25, 1, 1, 10, 1];
    for await (const r of orderedWindow(delays.keys(), 3, (i) => t.run(i, delays[i]!))) out.push(r);
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(t.peak).toBe(3);
  });

  it('after a failure pulls nothing more, yields what came before it, then throws', async () => {
    const pulled: number[] = [];
    async function* source() {
      for (let i = 0; i < 100; i++) {
        pulled.push(i);
        yield i;
        await sleep(1);
      }
    }
    const out: number[] = [];
    const run = async () => {
      for await (const r of orderedWindow(source(), 4, async (i) => {
        await sleep(i === 5 ? 1 : 15);
        if (i === 5) throw Object.assign(new Error('boom'), { code: 'E_TEST' });
        return i;
      })) {
        out.push(r);
      }
    };
    await expect(run()).rejects.toMatchObject({ code: 'E_TEST' });
    expect(out).toEqual([0, 1, 2, 3, 4]);
    expect(pulled.length).toBeLessThan(12);
  });

  it('waits for the jobs already started when the caller stops early', async () => {
    let settled = 0;
    for await (const r of orderedWindow([1, 2, 3, 4], 4, async (i) => {
      await sleep(i * 10);
      settled++;
      return i;
    })) {
      expect(r).toBe(1);
      break;
    }
    expect(settled).toBe(4);
  });
});
