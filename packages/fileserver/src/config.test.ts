import { describe, expect, it } from 'vitest';
import { DEFAULTS, resolveConfig } from './config.js';

describe('resolveConfig: getRangeBytes', () => {
  const base = { dataDir: '/nonexistent-never-created' };
  it('defaults to 4 MiB, takes 0 (one holder) and powers of two', () => {
    expect(resolveConfig(base).getRangeBytes).toBe(DEFAULTS.getRangeBytes);
    expect(resolveConfig({ ...base, getRangeBytes: 0 }).getRangeBytes).toBe(0);
    expect(resolveConfig({ ...base, getRangeBytes: 2 ** 30 }).getRangeBytes).toBe(2 ** 30);
  });

  it('refuses a size that would not start every range on a record', () => {
    for (const bad of [1000, 32, -1, 1.5, Number.NaN]) {
      expect(() => resolveConfig({ ...base, getRangeBytes: bad })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});

describe('resolveConfig: replicationMode', () => {
  const base = { dataDir: '/nonexistent-never-created' };
  it("defaults to 'auto' and takes 'chain' and 'fanout'", () => {
    expect(resolveConfig(base).replicationMode).toBe('auto');
    expect(resolveConfig({ ...base, replicationMode: 'chain' }).replicationMode).toBe('chain');
    expect(resolveConfig({ ...base, replicationMode: 'fanout' }).replicationMode).toBe('fanout');
  });

  it('refuses anything else', () => {
    expect(() =>
      resolveConfig({ ...base, replicationMode: 'pipeline' as unknown as 'chain' }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});
