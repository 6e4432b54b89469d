import { describe, expect, it } from 'vitest';
import { backoffDelay, resolveBackoff } from './backoff.js';
import { TcpTransport } from './index.js';

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

  it('refuses a zero, negative or inverted range, which would redial in a tight loop', () => {
    expect(resolveBackoff(undefined)).toEqual({ minDelayMs: 100, maxDelayMs: 30_000 });
    expect(resolveBackoff({ minDelayMs: 10 })).toEqual({ minDelayMs: 10, maxDelayMs: 30_000 });
    for (const backoff of [
      { minDelayMs: 0 },
      { minDelayMs: -5 },
      { minDelayMs: Number.NaN },
      { minDelayMs: 500, maxDelayMs: 100 },
    ]) {
      expect(() => new TcpTransport({ nodeId: 'a'.repeat(64), backoff })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});
