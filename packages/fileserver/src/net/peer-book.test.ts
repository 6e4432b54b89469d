import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PeerBook } from './peer-book.js';

const id = () => randomBytes(32).toString('hex');
const addr = (i: number) => `192.0.2.${(i % 250) + 1}:${7000 + i}`;

function book(max = 8, ttl = 1000) {
  let t = 1_000_000;
  const b = new PeerBook({ max, unreachedTtlMs: ttl, now: () => t });
  return { b, tick: (ms: number) => (t += ms) };
}

/** A HELLO that linked and went away without a message: what a forged HELLO is. */
function forged(b: PeerBook, i: number): string {
  const x = id();
  b.linked(x, addr(i));
  b.unlinked(x);
  return x;
}

describe('PeerBook', () => {
  it('saves only peers reached over a link, not those that only sent a HELLO or were named', () => {
    const { b } = book();
    const real = id();
    b.linked(real, '127.0.0.1:7401');
    expect(b.saved(64)).toEqual([]);
    expect(b.reached(real, '127.0.0.1:7401')).toBe(true);
    expect(b.reached(real, '127.0.0.1:7401')).toBe(false); // nothing new to save
    forged(b, 1);
    b.heard(id(), addr(2));
    expect(b.saved(64)).toEqual([{ id: real, addr: '127.0.0.1:7401' }]);
  });

  it('a flood of HELLOs stays within the bound and never pushes out a reached peer', () => {
    const { b, tick } = book(8);
    const real = id();
    b.linked(real, '127.0.0.1:7401');
    b.reached(real, '127.0.0.1:7401');
    b.unlinked(real); // down while the flood runs
    for (let i = 0; i < 5000; i++) {
      forged(b, i);
      tick(1);
    }
    expect(b.size).toBe(8);
    expect(b.get(real)?.standing).toBe('reached');
    expect(b.saved(64)).toEqual([{ id: real, addr: '127.0.0.1:7401' }]);
    // a peer only named in someone's list does not get in past reached ones either
    const full = book(2);
    const r1 = id();
    const r2 = id();
    for (const r of [r1, r2]) full.b.reached(r, addr(9));
    full.b.unlinked(r1);
    full.b.unlinked(r2);
    expect(full.b.heard(id(), addr(3))).toBe(false);
    expect(
      full.b
        .entries()
        .map((e) => e.id)
        .sort(),
    ).toEqual([r1, r2].sort());
  });

  it('a linked peer is kept while linked; a reached newcomer may displace only unreached ones', () => {
    const { b } = book(3);
    const open = [id(), id(), id()];
    for (const [i, x] of open.entries()) b.linked(x, addr(i)); // forged links held open
    const real = id();
    b.linked(real, '127.0.0.1:7401'); // no room: three open links of equal standing
    expect(b.get(real)).toBeUndefined();
    expect(b.reached(real, '127.0.0.1:7401')).toBe(true); // its first message makes room
    expect(b.get(real)?.standing).toBe('reached');
    expect(b.size).toBe(3);
    // reached and linked peers are never displaced by another reached one
    const full = book(1);
    const a = id();
    full.b.reached(a, addr(1));
    expect(full.b.reached(id(), addr(2))).toBe(false);
    expect(full.b.get(a)).toBeDefined();
  });

  it('ages out peers never reached; reached ones stay however long they are away', () => {
    const { b, tick } = book(8, 1000);
    const real = id();
    b.linked(real, addr(1));
    b.reached(real, addr(1));
    b.unlinked(real);
    const named = id();
    b.heard(named, addr(2));
    const linkedNow = id();
    b.linked(linkedNow, addr(3));
    forged(b, 4);
    tick(999);
    expect(b.prune()).toEqual([]);
    tick(2);
    expect(
      b
        .prune()
        .map((e) => e.standing)
        .sort(),
    ).toEqual(['heard', 'linked']);
    expect(b.get(named)).toBeUndefined();
    expect(b.get(linkedNow)).toBeDefined(); // still linked
    tick(10 * 86_400_000);
    expect(b.prune()).toEqual([]);
    expect(b.get(real)?.standing).toBe('reached');
  });

  it('loads node.json: drops entries that are not an id and a dialable address, and itself', () => {
    const { b } = book();
    const me = id();
    const good = [id(), id()];
    const kept = b.load(
      [
        { id: good[0], addr: '10.0.0.1:7400' },
        { id: 'not-hex', addr: '10.0.0.2:7400' },
        { id: id(), addr: '!27.0.0.1:47401' },
        { id: me, addr: '10.0.0.3:7400' },
        { id: good[1], addr: 'node-b.lan:7400' },
      ],
      me,
    );
    expect(kept.map((e) => e.id)).toEqual(good);
    // the file's order is kept when saved again
    expect(b.saved(64).map((e) => e.id)).toEqual(good);
  });

  it('a reached peer keeps its own address against what third parties name', () => {
    const { b } = book();
    const x = id();
    b.linked(x, '10.0.0.1:7400');
    b.reached(x, '10.0.0.1:7400');
    b.heard(x, '10.6.6.6:7400');
    expect(b.get(x)?.addr).toBe('10.0.0.1:7400');
    // restarted on a new port, it says so itself over a link that carried messages
    b.unlinked(x);
    b.linked(x, '10.0.0.1:7500');
    expect(b.get(x)?.addr).toBe('10.0.0.1:7400');
    expect(b.reached(x, '10.0.0.1:7500')).toBe(true);
    expect(b.saved(64)).toEqual([{ id: x, addr: '10.0.0.1:7500' }]);
  });
});
