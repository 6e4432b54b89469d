import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from './message-codec.js';

/** What the decoder makes of `__proto__` keys: renamed, so decoded input never sets a prototype. */
function safeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(safeKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    Object.defineProperty(out, k === '__proto__' ? '__proto_' : k, {
      value: safeKeys(x),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

describe('message codec (CBOR)', () => {
  it('never lets a decoded __proto__ key set a prototype', () => {
    const hostile = JSON.parse('{"type":"x","__proto__":{"polluted":true}}');
    const decoded = decodeMessage(encodeMessage(hostile));
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect((decoded as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('round-trips typical messages', () => {
    const messages = [
      {
        type: 'store-offer',
        namespace: 'ab'.repeat(32),
        key: 'cd'.repeat(32),
        size: 2 ** 40,
        digest: Buffer.alloc(32, 9),
      },
      {
        type: 'get-request',
        id: 7,
        keys: ['a', 'b'],
        nested: { deep: { list: [1, -2, 3.5, null, true] } },
      },
      { type: 'peers', addrs: ['127.0.0.1:4000', '[::1]:4001'], note: 'ünïcødé ✓' },
      { type: 'empty' },
    ];
    for (const m of messages) expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it('round-trips arbitrary JSON-like payloads (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.string(), (fields, type) => {
        const msg = { ...fields, type };
        expect(decodeMessage(encodeMessage(msg))).toEqual(
          safeKeys(JSON.parse(JSON.stringify(msg))),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('encodes plain maps (no cbor-x records), readable by any CBOR decoder', () => {
    const bytes = encodeMessage({ type: 't' });
    // 0xb9 / 0xa1: a CBOR map header, not a record tag.
    expect([0xa1, 0xb9]).toContain(bytes[0]);
  });

  it('rejects what is not a message with ERR_PROTOCOL', () => {
    const bad = [
      Buffer.from([0x01]), // the integer 1
      Buffer.from([0x80]), // an empty array
      Buffer.from([0xa0]), // a map with no type
      Buffer.from([0xff]),
      Buffer.concat([encodeMessage({ type: 'x' }), Buffer.from([0])]), // trailing bytes
      encodeMessage({ type: 'x' }).subarray(0, 3), // truncated
    ];
    for (const b of bad)
      expect(() => decodeMessage(b)).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
  });

  it('random bytes never throw anything but ERR_PROTOCOL (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decodeMessage(bytes);
        } catch (err) {
          expect((err as { code?: string }).code).toBe('ERR_PROTOCOL');
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses to encode a message without a string type', () => {
    expect(() => encodeMessage({ kind: 'x' } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
