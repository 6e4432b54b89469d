import { describe, expect, it } from 'vitest';
import { matchesEtag, parseRange, resolveRange } from './byte-range.js';

describe('byte ranges', () => {
  it('parses one range of bytes and ignores what may be served whole', () => {
    expect(parseRange('bytes=0-99')).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=10-')).toEqual({ start: 10 });
    expect(parseRange('bytes=-5')).toEqual({ suffix: 5 });
    expect(parseRange(' bytes = 3 - 4 ')).toEqual({ start: 3, end: 4 });
    for (const h of [
      undefined,
      'bytes=5-4',
      'bytes=0-1,5-6',
      'items=0-1',
      'bytes=-',
      'bytes=x-1',
    ]) {
      expect(parseRange(h)).toBeUndefined();
    }
  });

  it('resolves against the size: clamps the end, 416 past it', () => {
    expect(resolveRange({ start: 0, end: 99 }, 10)).toEqual({ start: 0, end: 9 });
    expect(resolveRange({ start: 9 }, 10)).toEqual({ start: 9, end: 9 });
    expect(resolveRange({ suffix: 3 }, 10)).toEqual({ start: 7, end: 9 });
    expect(resolveRange({ suffix: 30 }, 10)).toEqual({ start: 0, end: 9 });
    for (const [spec, size] of [
      [{ start: 10 }, 10],
      [{ suffix: 0 }, 10],
      [{ suffix: 1 }, 0],
      [{ start: 0, end: 0 }, 0],
    ] as const) {
      expect(() => resolveRange(spec, size)).toThrow(
        expect.objectContaining({ code: 'ERR_RANGE_NOT_SATISFIABLE', size }),
      );
    }
  });

  it('matches ETags in If-None-Match lists, weak or strong, and *', () => {
    const v = 'ab'.repeat(32);
    expect(matchesEtag(`"${v}"`, v)).toBe(true);
    expect(matchesEtag(`"x", W/"${v}"`, v)).toBe(true);
    expect(matchesEtag('*', v)).toBe(true);
    expect(matchesEtag('"other"', v)).toBe(false);
    expect(matchesEtag(undefined, v)).toBe(false);
  });
});
