import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CborFloat, strictDecode } from '../test/strict-cbor.js';
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
    // 0xa1: a CBOR map of one pair in a one-byte head, not a record tag.
    expect(bytes[0]).toBe(0xa1);
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

describe('message codec: RFC 8949 preferred form', () => {
  const now = 1_764_000_000_123;

  it('integers past 32 bits (millisecond times, sizes) go as CBOR integers, not float64', () => {
    const msg = {
      type: 'tombstone',
      ns: 'ab'.repeat(32),
      deletedAt: now,
      extra: { putAt: now + 1, size: 2 ** 40, list: [2 ** 53 - 1, -(2 ** 40), 7] },
    };
    const bytes = encodeMessage(msg);
    const decoded = strictDecode(bytes) as typeof msg;
    // A float anywhere would decode as a CborFloat and break the equality.
    expect(decoded).toEqual(msg);
    expect(typeof decoded.deletedAt).toBe('number');
    // deletedAt: text "deletedAt", then 0x1b (uint64 head), never 0xfb (float64)
    const at = bytes.indexOf(Buffer.from('deletedAt')) + 'deletedAt'.length;
    expect(bytes[at]).toBe(0x1b);
    expect(decodeMessage(bytes)).toEqual(msg);
  });

  it('maps, strings, arrays and byte strings carry the shortest length head', () => {
    expect(encodeMessage({ type: 't' }).subarray(0, 1)).toEqual(Buffer.from([0xa1]));
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]));
    const msg = {
      type: 'x'.repeat(30),
      many,
      list: Array.from({ length: 300 }, (_, i) => i * 1000),
      digest: Buffer.alloc(32, 7),
      view: new Uint8Array([1, 2, 3]),
    };
    const decoded = strictDecode(encodeMessage(msg)) as Record<string, unknown>;
    expect(decoded).toEqual({ ...msg, view: Buffer.from([1, 2, 3]) });
  });

  it('any message of integers, strings, booleans and nulls decodes strictly (property)', () => {
    const leaf = fc.oneof(
      fc.maxSafeInteger(),
      fc.integer(),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
    );
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('v')),
        fc.dictionary(fc.string(), tie('v')),
      ),
    })).v;
    fc.assert(
      fc.property(fc.dictionary(fc.string(), value), (fields) => {
        const msg = { ...fields, type: 'p' };
        expect(strictDecode(encodeMessage(msg))).toEqual(msg);
      }),
      { numRuns: 1000 },
    );
  });

  it('non-integers stay floats (float64), so they are never read back as integers', () => {
    const decoded = strictDecode(encodeMessage({ type: 'f', ratio: 0.1 })) as { ratio: unknown };
    expect(decoded.ratio).toEqual(new CborFloat(0.1, 8));
  });

  it('still decodes what older nodes sent: 2-byte map heads and float64 integers', () => {
    // { type: 'tombstone', ns: 'ab', deletedAt: 1764000000123, n: 5 } from a node before this change
    const legacy = Buffer.from(
      'b90004647479706569746f6d6273746f6e65626e736261626964656c657465644174fb4279ab697e87b000616e05',
      'hex',
    );
    expect(() => strictDecode(legacy)).toThrow(/argument 4 in a 2-byte head/);
    const msg = decodeMessage(legacy);
    expect(msg).toEqual({ type: 'tombstone', ns: 'ab', deletedAt: now, n: 5 });
    expect(Number.isSafeInteger(msg.deletedAt)).toBe(true);
  });

  it('an integer past 2^53 from a peer decodes as a number that no safe-integer check accepts', () => {
    const huge = Buffer.from('a264747970656178626174' + '1bffffffffffffffff', 'hex');
    const msg = decodeMessage(huge);
    expect(typeof msg.at).toBe('number');
    expect(Number.isSafeInteger(msg.at)).toBe(false);
  });
});
