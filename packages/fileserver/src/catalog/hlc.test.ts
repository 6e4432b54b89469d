import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareHlc,
  decodeHlc,
  encodeHlc,
  type Hlc,
  HybridClock,
  MAX_COUNTER,
  MAX_WALL,
} from './hlc.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

const arbHlc = fc.record({
  wall: fc.integer({ min: 0, max: MAX_WALL }),
  counter: fc.integer({ min: 0, max: MAX_COUNTER }),
  node: fc.constantFrom(A, B, '0'.repeat(64), 'f'.repeat(64)),
});

describe('hybrid logical clock', () => {
  it('grows strictly even when the wall clock stands still or goes back', () => {
    let t = 1_000;
    const clock = new HybridClock({ node: A, now: () => t });
    const seen: Hlc[] = [];
    for (const step of [0, 0, 5, -100, -100, 0, 200, -1]) {
      t += step;
      seen.push(clock.now());
    }
    for (let i = 1; i < seen.length; i++) expect(compareHlc(seen[i]!, seen[i - 1]!)).toBe(1);
    expect(seen[0]).toEqual({ wall: 1_000, counter: 0, node: A });
    expect(seen[3]).toEqual({ wall: 1_005, counter: 1, node: A }); // clock went back: counter runs on
    expect(seen[6]).toEqual({ wall: 1_005, counter: 4, node: A });
  });

  it('borrows the next millisecond once the counter is spent', () => {
    const clock = new HybridClock({
      node: A,
      now: () => 7,
      last: { wall: 7, counter: MAX_COUNTER },
    });
    expect(clock.now()).toEqual({ wall: 8, counter: 0, node: A });
  });

  it('observes a remote clock so every later event orders after it', () => {
    const clock = new HybridClock({ node: A, now: () => 1_000 });
    clock.observe({ wall: 1_500, counter: 9, node: B });
    expect(clock.now()).toEqual({ wall: 1_500, counter: 10, node: A });
    clock.observe({ wall: 1_200, counter: 50, node: B }); // older: no change
    expect(clock.now()).toEqual({ wall: 1_500, counter: 11, node: A });
  });

  it('refuses (does not clamp) a remote clock past the drift bound, and leaves itself unmoved', () => {
    const clock = new HybridClock({ node: A, now: () => 1_000, maxDriftMs: 100 });
    expect(() => clock.observe({ wall: 1_101, counter: 0, node: B })).toThrow(
      expect.objectContaining({ code: 'ERR_CLOCK_DRIFT', aheadMs: 101 }),
    );
    expect(clock.now()).toEqual({ wall: 1_000, counter: 0, node: A });
    clock.observe({ wall: 1_100, counter: 0, node: B }); // at the bound: accepted
    expect(clock.now().wall).toBe(1_100);
  });

  it('starts after the last clock kept before a restart, whatever the wall clock says', () => {
    const clock = new HybridClock({ node: A, now: () => 10, last: { wall: 5_000, counter: 3 } });
    expect(clock.now()).toEqual({ wall: 5_000, counter: 4, node: A });
  });

  it('encodes to 40 bytes whose byte order is clock order (property)', () => {
    fc.assert(
      fc.property(arbHlc, arbHlc, (a, b) => {
        const ea = encodeHlc(a);
        expect(ea.length).toBe(40);
        expect(decodeHlc(ea)).toEqual(a);
        expect(Math.sign(Buffer.compare(ea, encodeHlc(b)))).toBe(compareHlc(a, b));
      }),
      { numRuns: 500 },
    );
  });
});
