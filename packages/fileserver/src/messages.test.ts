import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SMALL_SEALED, parseMessage, parseStreamHeader } from './messages.js';

const h = 'ab'.repeat(32);

describe('peer messages', () => {
  it('accepts every well-formed message', () => {
    expect(parseMessage({ type: 'get-request', reqId: 'r1', ns: h, id: h })).toEqual({
      type: 'get-request',
      reqId: 'r1',
      ns: h,
      id: h,
    });
    expect(parseMessage({ type: 'get-response', reqId: 'r1', found: false })).toMatchObject({
      found: false,
    });
    expect(
      parseMessage({ type: 'store-ack', reqId: 'r', ok: false, code: 'ERR_INTEGRITY' }),
    ).toEqual({ type: 'store-ack', reqId: 'r', ok: false, code: 'ERR_INTEGRITY' });
    expect(parseMessage({ type: 'delete', reqId: 'r', ns: h, id: h }).type).toBe('delete');
    expect(parseMessage({ type: 'store-commit', reqId: 'r', digest: h, size: 5 })).toEqual({
      type: 'store-commit',
      reqId: 'r',
      digest: h,
      size: 5,
    });
    const data = Buffer.from('sealed');
    expect(parseMessage({ type: 'store-small', reqId: 'r', ns: h, id: h, data })).toEqual({
      type: 'store-small',
      reqId: 'r',
      ns: h,
      id: h,
      extra: {},
      data,
    });
    expect(parseMessage({ type: 'store-abort', reqId: 'r' })).toEqual({
      type: 'store-abort',
      reqId: 'r',
    });
    for (const bad of [undefined, 'text', Buffer.alloc(MAX_SMALL_SEALED + 1)]) {
      expect(() =>
        parseMessage({ type: 'store-small', reqId: 'r', ns: h, id: h, data: bad }),
      ).toThrow(/bad message: data/);
    }
    expect(parseMessage({ type: 'delete-ack', reqId: 'r', deleted: true })).toMatchObject({
      deleted: true,
    });
    expect(parseMessage({ type: 'integrity-report', ns: h, id: h }).type).toBe('integrity-report');
  });

  it('a chain offer names the rest of the chain; its ack the copies made', () => {
    const g = 'cd'.repeat(32);
    const offer = { type: 'store-offer', reqId: 'r', ns: h, id: h, extra: {}, chain: [g] };
    expect(parseStreamHeader(offer)).toEqual(offer);
    // an old header (no chain) is a fan-out replica
    expect(parseStreamHeader({ ...offer, chain: undefined })).not.toHaveProperty('chain');
    expect(parseMessage({ type: 'store-ack', reqId: 'r', ok: true, copies: [h, g] })).toEqual({
      type: 'store-ack',
      reqId: 'r',
      ok: true,
      copies: [h, g],
    });
    for (const chain of [[g, g], ['nope'], Array.from({ length: 9 }, () => g), 'x']) {
      expect(() => parseStreamHeader({ ...offer, chain })).toThrow();
    }
    expect(() => parseStreamHeader({ ...offer, digest: h })).toThrow();
    expect(() =>
      parseMessage({ type: 'store-ack', reqId: 'r', ok: true, copies: [h, h] }),
    ).toThrow();
  });

  it('peer exchange keeps only well-formed entries', () => {
    const m = parseMessage({
      type: 'peers',
      peers: [
        { id: h, addr: '127.0.0.1:4000' },
        { id: h, addr: 7 },
        { id: 'x', addr: '127.0.0.1:1' },
        { id: h, addr: 'nope' },
        null,
        { id: h, addr: '[::1]:9' },
        { id: h, addr: '!27.0.0.1:47401' }, // what a forged HELLO flood left in node.json
        { id: h, addr: '127.0.0.1:0' },
        { id: h, addr: 'node-2.lan:4000' },
      ],
    });
    expect(m).toEqual({
      type: 'peers',
      peers: [
        { id: h, addr: '127.0.0.1:4000' },
        { id: h, addr: '[::1]:9' },
        { id: h, addr: 'node-2.lan:4000' },
      ],
    });
  });

  it('rejects malformed messages with ERR_PROTOCOL', () => {
    const bad: unknown[] = [
      null,
      'x',
      [],
      { type: 'nope' },
      { type: 'get-request', reqId: 'r', ns: 'AB'.repeat(32), id: h },
      { type: 'get-request', reqId: '../x', ns: h, id: h },
      { type: 'get-response', reqId: 'r', found: true },
      { type: 'delete-ack', reqId: 'r', deleted: 'yes' },
      { type: 'peers', peers: 'a' },
      { type: 'peers', peers: Array.from({ length: 2000 }, () => ({ id: h, addr: '1.1.1.1:1' })) },
    ];
    for (const b of bad)
      expect(() => parseMessage(b)).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
  });

  it('parses stream headers and checks their fields', () => {
    const offer = {
      type: 'store-offer',
      reqId: 'r',
      ns: h,
      id: h,
      size: 10,
      digest: h,
      extra: { name: 'x', plainSize: 3 },
    };
    expect(parseStreamHeader(offer)).toEqual(offer);
    // a streamed offer names its digest later, in a store-commit
    const { digest: _d, size: _s, ...streamed } = offer;
    expect(parseStreamHeader(streamed)).toEqual(streamed);
    expect(
      parseStreamHeader({ type: 'get-response', reqId: 'r', found: true, size: 0, digest: h }),
    ).toMatchObject({ extra: {} });
    for (const b of [
      { ...offer, size: -1 },
      { ...offer, size: 1.5 },
      { ...offer, digest: 'x' },
      { ...offer, extra: { nested: { a: 1 } } },
      { type: 'get-response', reqId: 'r', found: false },
    ]) {
      expect(() => parseStreamHeader(b)).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
    }
  });

  it('never throws anything but ERR_PROTOCOL on arbitrary input', () => {
    fc.assert(
      fc.property(fc.anything(), (x) => {
        for (const parse of [parseMessage, parseStreamHeader]) {
          try {
            parse(x);
          } catch (err) {
            expect((err as { code?: string }).code).toBe('ERR_PROTOCOL');
          }
        }
      }),
    );
  });
});
