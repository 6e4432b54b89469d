import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { KeyLock } from './key-lock.js';

describe('KeyLock', () => {
  it('runs work on one key one at a time, in arrival order, and forgets idle keys', async () => {
    const lock = new KeyLock();
    const log: string[] = [];
    const job = (id: string, name: string, ms: number) =>
      lock.run(id, async () => {
        log.push(`start ${name}`);
        await sleep(ms);
        log.push(`end ${name}`);
      });
    await Promise.all([job('k', 'a', 20), job('k', 'b', 1), job('k', 'c', 1)]);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(lock.size).toBe(0);
  });

  it('lets different keys run together and survives a failing job', async () => {
    const lock = new KeyLock();
    let running = 0;
    let peak = 0;
    const job = (id: string) =>
      lock.run(id, async () => {
        running++;
        peak = Math.max(peak, running);
        await sleep(10);
        running--;
      });
    await Promise.all([job('a'), job('b')]);
    expect(peak).toBe(2);
    await expect(lock.run('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    await expect(lock.run('a', async () => 7)).resolves.toBe(7);
  });
});
