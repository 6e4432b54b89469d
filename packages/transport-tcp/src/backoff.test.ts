import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  const opts = { minDelayMs: 100, maxDelayMs: 5000 };

  it('doubles from the minimum and stops at the cap', () => {
    const top = (n: number) => backoffDelay(n, opts, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6, 20, 1000].map(top)).toEqual([
      100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000,
    ]);
  });

  it('jitters within [cap/2, cap]', () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const cap = Math.min(5000, 100 * 2 ** attempt);
      expect(backoffDelay(attempt, opts, () => 0)).toBe(cap / 2);
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(attempt, opts);
        expect(d).toBeGreaterThanOrEqual(cap / 2);
        expect(d).toBeLessThanOrEqual(cap);
      }
    }
  });
});
