import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { placeReplicas, rankNodes, rendezvousWeight } from './placement.js';

const hex = (n: number) => n.toString(16).padStart(64, '0');
const ids = (n: number, offset = 0) => Array.from({ length: n }, (_, i) => hex(i + 1 + offset));

describe('placement', () => {
  it('weights are deterministic and depend on both ids', () => {
    expect(rendezvousWeight('a', 'f')).toBe(rendezvousWeight('a', 'f'));
    expect(rendezvousWeight('a', 'f')).not.toBe(rendezvousWeight('b', 'f'));
    expect(rendezvousWeight('a', 'f')).not.toBe(rendezvousWeight('a', 'g'));
  });

  it('ranking does not depend on input order or duplicates', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[0-9a-f]{8}$/), { minLength: 1, maxLength: 20 }),
        fc.string(),
        (nodes, file) => {
          const a = rankNodes(file, nodes);
          const b = rankNodes(file, [...nodes].reverse().concat(nodes));
          expect(b).toEqual(a);
          expect(new Set(a)).toEqual(new Set(nodes));
        },
      ),
    );
  });

  it('picks r nodes, or all of them when there are fewer', () => {
    expect(placeReplicas('f', ids(10), 3)).toHaveLength(3);
    expect(placeReplicas('f', ids(2), 3)).toHaveLength(2);
    expect(placeReplicas('f', ids(2), 0)).toEqual([]);
    expect(placeReplicas('f', ids(10), 3)).toEqual(rankNodes('f', ids(10)).slice(0, 3));
  });

  it('spreads files evenly over nodes', () => {
    const nodes = ids(10);
    const counts = new Map(nodes.map((n) => [n, 0]));
    const files = 5000;
    for (let i = 0; i < files; i++) {
      for (const n of placeReplicas(`file-${i}`, nodes, 3)) counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    const expected = (files * 3) / nodes.length;
    for (const c of counts.values()) {
      expect(c).toBeGreaterThan(expected * 0.8);
      expect(c).toBeLessThan(expected * 1.2);
    }
  });

  it('adding a node moves only about 1/N of the primary placements', () => {
    const before = ids(10);
    const after = [...before, hex(999)];
    const files = 5000;
    let moved = 0;
    for (let i = 0; i < files; i++) {
      const a = placeReplicas(`k${i}`, before, 1)[0];
      const b = placeReplicas(`k${i}`, after, 1)[0];
      if (a !== b) {
        moved++;
        // a file only ever moves to the new node
        expect(b).toBe(hex(999));
      }
    }
    expect(moved / files).toBeGreaterThan(0.05);
    expect(moved / files).toBeLessThan(0.15);
  });
});
