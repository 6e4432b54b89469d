import { randomBytes } from 'node:crypto';
import { deriveNamespace, newEncryptionKey, sealBytes, sealedSize } from '@peerstash/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode } from './codec.js';
import type { Hlc } from './hlc.js';
import {
  type CatalogRecord,
  compareRecords,
  decodeRecord,
  decodeRecordBody,
  encodeRecord,
  encodeRecordBody,
  MAX_ATTRIBUTES_BYTES,
  makePutRecord,
  makeTombstone,
  openAttributes,
  openName,
  recordHash,
  sealedNameFromExtra,
} from './record.js';

const vaultKey = newEncryptionKey();
const vault = { key: vaultKey, ns: deriveNamespace(vaultKey) };
const NODE_A = 'a'.repeat(64);
const NODE_B = 'b'.repeat(64);
const hlc = (wall: number, counter = 0, node = NODE_A): Hlc => ({ wall, counter, node });
const digest = () => randomBytes(32).toString('hex');

function put(key: string, at: Hlc, size = 1000): CatalogRecord {
  return makePutRecord(vault, {
    key,
    version: digest(),
    size,
    sealedSize: sealedSize(size),
    hlc: at,
  });
}

describe('catalog record', () => {
  it('round-trips through its canonical encoding, wire and stored forms', () => {
    const big = 1_700_000_000_000; // past 2^32: must stay an integer
    const r = makePutRecord(vault, {
      key: 'photos/cat.jpg',
      version: digest(),
      size: 5_000_000_000,
      sealedSize: sealedSize(5_000_000_000),
      hlc: hlc(big, 7),
      attributes: { 'content-type': 'image/jpeg', etag: '"abc"', n: -3, raw: Buffer.from([1, 2]) },
    });
    const wire = encodeRecord(r);
    expect(decodeRecord(wire)).toEqual(r);
    expect(decodeRecordBody(r.ns, r.id, encodeRecordBody(r))).toEqual(r);
    // integers as CBOR integers (major type 0), never a float64 (0xfb)
    expect(
      wire.includes(Buffer.from([0x1b, ...Buffer.from(big.toString(16).padStart(16, '0'), 'hex')])),
    ).toBe(true);
    const raw = decode(wire, 'test') as Record<string, unknown>;
    expect(typeof raw.t).toBe('bigint'); // a float64 would read back as a number
    expect(typeof raw.size).toBe('bigint');
    expect(openName(vaultKey, r)).toBe('photos/cat.jpg');
    expect(openAttributes(vaultKey, r.attrs!)).toEqual({
      'content-type': 'image/jpeg',
      etag: '"abc"',
      n: -3,
      raw: Buffer.from([1, 2]),
    });
    const t = makeTombstone(vault, 'photos/cat.jpg', hlc(big + 1));
    expect(decodeRecord(encodeRecord(t))).toEqual(t);
    expect(t.id).toBe(r.id);
  });

  it('uses the sealed-name scheme of blob metadata (extra.name, base64)', () => {
    const extraName = sealBytes(vaultKey, Buffer.from('docs/a.txt', 'utf8')).toString('base64');
    const r = { ...put('docs/a.txt', hlc(1)), name: sealedNameFromExtra(extraName) };
    expect(openName(vaultKey, r)).toBe('docs/a.txt');
  });

  it('refuses a name that does not derive the id, or does not open', () => {
    const r = put('a', hlc(1));
    const other = put('b', hlc(1));
    expect(() => openName(vaultKey, { ...r, name: other.name })).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_RECORD' }),
    );
    expect(() => openName(newEncryptionKey(), r)).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_RECORD' }),
    );
  });

  it('validates every field of a received record with ERR_BAD_RECORD', () => {
    const r = put('k', hlc(5));
    const fields = (patch: Record<string, unknown>) => {
      const m = { ...(decode(encodeRecord(r), 'test') as Record<string, unknown>), ...patch };
      for (const [k, v] of Object.entries(m)) if (v === undefined) delete m[k];
      return encode(m);
    };
    const cases: Array<Record<string, unknown>> = [
      { v: 2 },
      { ns: Buffer.alloc(31) },
      { id: 'x'.repeat(64) },
      { t: -1 },
      { t: 1.5 },
      { t: 2 ** 48 },
      { c: 70_000 },
      { n: Buffer.alloc(8) },
      { name: Buffer.alloc(10) },
      { name: Buffer.alloc(5000) },
      { ver: undefined },
      { size: 10 }, // sealed size no longer fits
      { ssize: 3 },
      { attrs: 'x' },
      { extra: 1 },
      { del: true }, // a tombstone with a version
      { del: 1 },
    ];
    for (const patch of cases) {
      expect(() => decodeRecord(fields(patch)), JSON.stringify(Object.keys(patch))).toThrow(
        expect.objectContaining({ code: 'ERR_BAD_RECORD' }),
      );
    }
    for (const junk of [Buffer.from([0xff]), Buffer.from([1, 2, 3]), encode([1, 2]), encode('s')]) {
      expect(() => decodeRecord(junk)).toThrow(expect.objectContaining({ code: 'ERR_BAD_RECORD' }));
    }
    expect(() => decodeRecord(Buffer.concat([encodeRecord(r), Buffer.from([0])]))).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_RECORD' }),
    );
  });

  it('caps attributes at 4 KiB and refuses nested values', () => {
    const big = { blob: Buffer.alloc(MAX_ATTRIBUTES_BYTES) };
    const base = { key: 'k', version: digest(), size: 1, sealedSize: sealedSize(1), hlc: hlc(1) };
    expect(() => makePutRecord(vault, { ...base, attributes: big })).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_RECORD' }),
    );
    const nested = { a: { b: 1 } } as unknown as Record<string, string>;
    expect(() => makePutRecord(vault, { ...base, attributes: nested })).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_RECORD' }),
    );
    const fits = { blob: Buffer.alloc(MAX_ATTRIBUTES_BYTES - 16) };
    expect(makePutRecord(vault, { ...base, attributes: fits }).attrs).toBeDefined();
  });
});

describe('merge rule', () => {
  it('the later clock wins; a tombstone with a later clock wins; an older put never resurrects', () => {
    const first = put('k', hlc(100));
    const second = put('k', hlc(100, 1));
    const gone = makeTombstone(vault, 'k', hlc(200));
    const stale = put('k', hlc(150, 0, NODE_B));
    const later = put('k', hlc(300, 0, NODE_B));
    expect(compareRecords(second, first)).toBeGreaterThan(0);
    expect(compareRecords(gone, second)).toBeGreaterThan(0);
    expect(compareRecords(stale, gone)).toBeLessThan(0);
    expect(compareRecords(later, gone)).toBeGreaterThan(0);
  });

  it('concurrent puts order by node id at the same instant, a tombstone first on a full tie', () => {
    const a = put('k', hlc(100, 0, NODE_A));
    const b = put('k', hlc(100, 0, NODE_B));
    expect(compareRecords(b, a)).toBeGreaterThan(0);
    const t = { ...makeTombstone(vault, 'k', hlc(100, 0, NODE_A)) };
    expect(compareRecords(t, a)).toBeGreaterThan(0);
  });

  it('is a total order every node agrees on: any arrival order picks one winner (property)', () => {
    const pool = [
      put('k', hlc(10)),
      put('k', hlc(10, 1)),
      put('k', hlc(10, 1, NODE_B)),
      makeTombstone(vault, 'k', hlc(11)),
      put('k', hlc(12, 0, NODE_B)),
      makeTombstone(vault, 'k', hlc(12, 0, NODE_B)),
    ];
    fc.assert(
      fc.property(
        fc.shuffledSubarray(pool, { minLength: 1 }),
        fc.shuffledSubarray(pool, { minLength: 1 }),
        (xs, ys) => {
          const pick = (rs: CatalogRecord[]) =>
            rs.reduce((w, r) => (compareRecords(r, w) > 0 ? r : w));
          const all = [...new Set([...xs, ...ys])];
          const w1 = pick([...xs, ...ys]);
          const w2 = pick([...ys, ...xs].reverse());
          expect(recordHash(w1).equals(recordHash(w2))).toBe(true);
          expect(recordHash(w1).equals(recordHash(pick(all)))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
