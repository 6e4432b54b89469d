import { createHash, randomBytes } from 'node:crypto';
import { encodeMessage } from '@peerstash/transport-tcp';
import { describe, expect, it } from 'vitest';
import { newer, tombVersion } from '../versions.js';
import { parseRepairMessage, type RepairSummaryReply } from './messages.js';
import { answer, type Entry, type Part, reconcile, SortedEntries } from './summary.js';

function entries(n: number, seed: string): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const id = createHash('sha256').update(`${seed}:${i}`).digest('hex');
    out.push({
      id,
      v: createHash('sha256').update(`v:${id}`).digest('hex'),
      at: 1_700_000_000_000 + i,
    });
  }
  return out;
}

/** Runs reconcile against `theirs` through the real message encoding and parser; counts bytes. */
async function exchange(mine: SortedEntries, theirs: SortedEntries) {
  let bytes = 0;
  let rounds = 0;
  const diffs = await reconcile(mine, async (prefixes, root) => {
    rounds++;
    const req = {
      ...(root ? { root } : {}),
      type: 'repair-summary',
      reqId: 'r1',
      ns: 'a'.repeat(64),
      view: 'b'.repeat(64),
      prefixes,
    };
    bytes += encodeMessage(req).length;
    const reply = {
      type: 'repair-summary-reply',
      reqId: 'r1',
      ok: true,
      parts: answer(theirs, prefixes, root),
    };
    bytes += encodeMessage(reply).length;
    const parsed = parseRepairMessage(reply) as RepairSummaryReply;
    return parsed.parts as Part[];
  });
  return { diffs, bytes, rounds };
}

describe('set summaries', () => {
  it('finds the one key that differs out of 100,000 with a few KB', async () => {
    const all = entries(100_000, 's');
    const a = new SortedEntries(all);
    const changed = all[31_337]!;
    const b = new SortedEntries(
      all.map((e) => (e === changed ? { ...e, v: tombVersion(e.at + 1), at: e.at + 1 } : e)),
    );
    const { diffs, bytes, rounds } = await exchange(a, b);
    expect(diffs).toHaveLength(1);
    expect(diffs[0]!.id).toBe(changed.id);
    expect(diffs[0]!.mine).toEqual(changed);
    expect(newer(diffs[0]!.theirs!, changed)).toBe(true);
    // the whole list as one message: every id with its version and time
    const full = encodeMessage({ type: 'list', entries: all.map((e) => [e.id, e.v, e.at]) }).length;
    console.log(`summary exchange: ${bytes} bytes in ${rounds} requests; full list ${full} bytes`);
    expect(bytes).toBeLessThan(full / 100);
    expect(bytes).toBeLessThan(16 * 1024);
  });

  it('finds a key only one side holds, and nothing when equal', async () => {
    const all = entries(5_000, 't');
    const a = new SortedEntries(all);
    const b = new SortedEntries(all.filter((_, i) => i !== 42));
    const { diffs } = await exchange(a, b);
    expect(diffs.map((d) => d.id)).toEqual([all[42]!.id]);
    expect(diffs[0]!.theirs).toBeUndefined();
    const same = await exchange(a, new SortedEntries(all));
    expect(same.diffs).toEqual([]);
    // in sync: one request, answered by the root alone
    expect(same.rounds).toBe(1);
    expect(same.bytes).toBeLessThan(400);
    // the side that lacks the key has nothing to push: the holder pushes it in its own round
    expect((await exchange(b, a)).diffs.filter((d) => d.mine)).toEqual([]);
  });

  it('agrees with a plain comparison on random sets', async () => {
    for (let round = 0; round < 5; round++) {
      const base = entries(3_000, `r${round}`);
      const mine = base.filter(() => Math.random() < 0.97);
      const theirs = base
        .filter(() => Math.random() < 0.97)
        .map((e) => (Math.random() < 0.01 ? { ...e, v: randomBytes(32).toString('hex') } : e));
      const { diffs } = await exchange(new SortedEntries(mine), new SortedEntries(theirs));
      const t = new Map(theirs.map((e) => [e.id, e]));
      const expected = mine
        .filter((e) => t.get(e.id)?.v !== e.v)
        .map((e) => e.id)
        .sort();
      expect(
        diffs
          .filter((d) => d.mine)
          .map((d) => d.id)
          .sort(),
      ).toEqual(expected);
    }
  });

  it('ranges by prefix', () => {
    const s = new SortedEntries(entries(1000, 'p'));
    const under = s.under('ab');
    expect(under.every((e) => e.id.startsWith('ab'))).toBe(true);
    expect(under.length).toBe(s.entries.filter((e) => e.id.startsWith('ab')).length);
  });
});
