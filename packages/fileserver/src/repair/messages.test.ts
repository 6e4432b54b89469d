import { describe, expect, it } from 'vitest';
import { parseMessage } from '../messages.js';
import { MAX_HAVE_IDS } from './messages.js';

const h = (c: string) => c.repeat(64);

describe('repair messages', () => {
  it('accept well-formed summaries, holdings and tombstones', () => {
    expect(
      parseMessage({
        type: 'repair-summary',
        reqId: 'r',
        ns: h('a'),
        view: h('b'),
        prefixes: ['', 'ab'],
      }),
    ).toMatchObject({ type: 'repair-summary', prefixes: ['', 'ab'] });
    const reply = parseMessage({
      type: 'repair-summary-reply',
      reqId: 'r',
      ok: true,
      parts: [
        { prefix: '', count: 300, hashes: new Uint8Array(2048), counts: new Uint8Array(1024) },
        { prefix: 'ab', count: 1, list: new Uint8Array(23) },
      ],
    });
    expect(reply).toMatchObject({ type: 'repair-summary-reply', ok: true });
    expect(
      parseMessage({ type: 'repair-have', reqId: 'r', ns: h('a'), ids: [h('c')] }),
    ).toMatchObject({
      ids: [h('c')],
    });
    expect(
      parseMessage({ type: 'repair-have-reply', reqId: 'r', entries: [[h('c'), h('d'), 5, true]] }),
    ).toMatchObject({ entries: [[h('c'), h('d'), 5, true]] });
    expect(
      parseMessage({ type: 'tombstone', ns: h('a'), id: h('c'), deletedAt: 7, origin: h('e') }),
    ).toMatchObject({ type: 'tombstone', deletedAt: 7 });
  });

  it.each([
    { type: 'repair-summary', reqId: 'r', ns: h('a'), view: h('b'), prefixes: ['abc'] },
    { type: 'repair-summary', reqId: 'r', ns: h('a'), view: h('b'), prefixes: Array(33).fill('') },
    {
      type: 'repair-summary-reply',
      reqId: 'r',
      ok: true,
      parts: [{ prefix: '', count: 1, hashes: new Uint8Array(5), counts: new Uint8Array(1024) }],
    },
    {
      type: 'repair-summary-reply',
      reqId: 'r',
      ok: true,
      parts: [{ prefix: '', count: 1, list: new Uint8Array(24) }],
    },
    { type: 'repair-have', reqId: 'r', ns: h('a'), ids: Array(MAX_HAVE_IDS + 1).fill(h('c')) },
    { type: 'repair-have-reply', reqId: 'r', entries: [[h('c'), h('d'), -1, true]] },
    { type: 'tombstone', ns: h('a'), id: h('c'), deletedAt: 1.5, origin: h('e') },
    { type: 'tombstone', ns: h('a'), id: 'x', deletedAt: 1, origin: h('e') },
  ])('refuse a malformed or oversized one (%#)', (raw) => {
    expect(() => parseMessage(raw)).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
  });
});
