import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newer, tombVersion } from '../versions.js';
import { type HaveViews, keptBy, mayDrop, type PeerHolding } from './hand-off.js';
import type { Entry } from './summary.js';

const ID = 'a'.repeat(64);
const mine: Entry = { id: ID, v: 'b'.repeat(64), at: 1000 };

function views(of: Record<string, Omit<PeerHolding, 'id'> | undefined>): HaveViews {
  const out: HaveViews = new Map();
  for (const [peer, h] of Object.entries(of)) {
    if (h) out.set(peer, new Map([[ID, { id: ID, ...h }]]));
  }
  return out;
}

describe('hand-off: a surplus copy goes only when R placement nodes keep it', () => {
  it('counts only placement nodes that keep this version or a newer one', () => {
    const same = { v: mine.v, at: mine.at, keeps: true };
    const older = { v: 'c'.repeat(64), at: 999, keeps: true };
    const notKept = { v: mine.v, at: mine.at, keeps: false };
    const tomb = { v: tombVersion(2000), at: 2000, keeps: true };
    const placement = ['p1', 'p2', 'p3'];
    expect(keptBy(mine, placement, views({ p1: same, p2: same, p3: same })).kept).toBe(3);
    expect(keptBy(mine, placement, views({ p1: same, p2: older, p3: notKept })).kept).toBe(1);
    const r = keptBy(mine, placement, views({ p1: same, p2: same, p3: tomb }));
    expect(r.kept).toBe(3);
    expect(r.superseded?.v).toBe(tombVersion(2000));
    // a peer that did not answer counts as not keeping it
    expect(keptBy(mine, placement, views({ p1: same, p2: same })).kept).toBe(2);
    expect(mayDrop(2, 3, 3, 4)).toBe(false);
    expect(mayDrop(3, 3, 3, 4)).toBe(true);
    // fewer live nodes than R: every live placement node must keep it
    expect(mayDrop(2, 2, 3, 2)).toBe(true);
    expect(mayDrop(1, 2, 3, 2)).toBe(false);
  });

  it('never below R: whenever a drop is allowed, min(R, members) placement nodes hold it', () => {
    const holding = fc.option(
      fc.record({
        at: fc.integer({ min: 990, max: 1010 }),
        tomb: fc.boolean(),
        same: fc.boolean(),
        keeps: fc.boolean(),
      }),
      { nil: undefined },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(holding, { minLength: 8, maxLength: 8 }),
        (r, members, held) => {
          const placement = Array.from({ length: Math.min(r, members) }, (_, i) => `p${i}`);
          const of: Record<string, Omit<PeerHolding, 'id'> | undefined> = {};
          placement.forEach((p, i) => {
            const h = held[i];
            if (!h) return;
            const v = h.same ? mine.v : h.tomb ? tombVersion(h.at) : `${h.at}`.padEnd(64, 'f');
            of[p] = { v, at: h.same ? mine.at : h.at, keeps: h.keeps };
          });
          const vs = views(of);
          const { kept } = keptBy(mine, placement, vs);
          if (!mayDrop(kept, placement.length, r, members)) return;
          // every counted node really keeps this version or a newer one
          const safe = placement.filter((p) => {
            const t = vs.get(p)?.get(ID);
            return !!t && t.keeps && (t.v === mine.v || newer(t, mine));
          });
          expect(safe.length).toBeGreaterThanOrEqual(Math.min(r, members));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
