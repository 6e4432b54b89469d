import { createCipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HEADER_SIZE, plainSizeOf, sealBytes, sealedRange, sealedSize, TAG_SIZE } from './index.js';
import { counterAt } from './sealed-range.js';

const C = 64;
const RECORD = C + TAG_SIZE;

describe('sealedRange', () => {
  it('names the header and the records that cover a range', () => {
    // 3 full records and a final one of 10 bytes
    const size = 3 * C + 10;
    expect(sealedRange({ start: 0, end: 0 }, size, C)).toMatchObject({
      start: 0,
      end: 0,
      length: 1,
      firstChunk: 0,
      lastChunk: 0,
      finalChunk: 3,
      header: { offset: 0, length: HEADER_SIZE },
      body: { offset: HEADER_SIZE, length: RECORD },
    });
    // across the edge of records 0 and 1
    expect(sealedRange({ start: C - 1, end: C }, size, C).body).toEqual({
      offset: HEADER_SIZE,
      length: 2 * RECORD,
    });
    // the last byte lives in the short final record
    expect(sealedRange({ start: size - 1, end: size - 1 }, size, C)).toMatchObject({
      firstChunk: 3,
      lastChunk: 3,
      body: { offset: HEADER_SIZE + 3 * RECORD, length: 10 + TAG_SIZE },
    });
    // the body of the whole file runs to the blob's last byte
    const whole = sealedRange({ start: 0, end: size - 1 }, size, C).body;
    expect(whole.offset + whole.length).toBe(sealedSize(size, C));
  });

  it('clamps an end past the file to its last byte, as HTTP does', () => {
    expect(sealedRange({ start: 5, end: 10 ** 12 }, 100, C)).toMatchObject({
      start: 5,
      end: 99,
      length: 95,
    });
  });

  it('a file that is a whole number of records never reads its empty final record', () => {
    const plan = sealedRange({ start: 0, end: 2 * C - 1 }, 2 * C, C);
    expect(plan).toMatchObject({ lastChunk: 1, finalChunk: 2 });
    expect(plan.body).toEqual({ offset: HEADER_SIZE, length: 2 * RECORD });
  });

  it('a start at or past the end (every range of an empty file) is ERR_RANGE_NOT_SATISFIABLE', () => {
    for (const [start, size] of [
      [0, 0],
      [100, 100],
      [101, 100],
      [5, 0],
    ] as const) {
      expect(() => sealedRange({ start, end: start + 10 }, size, C)).toThrow(
        expect.objectContaining({ code: 'ERR_RANGE_NOT_SATISFIABLE', size }),
      );
    }
  });

  it('malformed bounds and chunk sizes are ERR_INVALID_ARGUMENT', () => {
    const bad: Array<[number, number, number, number]> = [
      [5, 4, 100, C],
      [-1, 4, 100, C],
      [0.5, 4, 100, C],
      [0, Number.NaN, 100, C],
      [0, 4, -1, C],
      [0, 4, 100, 100],
    ];
    for (const [start, end, size, chunk] of bad) {
      expect(() => sealedRange({ start, end }, size, chunk)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });

  it('the named span is where those records really are (property, against real blobs)', () => {
    fc.assert(
      fc.property(fc.nat(8 * C), fc.nat(), fc.nat(), (size, a, b) => {
        fc.pre(size > 0);
        const start = a % size;
        const end = start + (b % (size - start));
        const sealed = sealBytes(Buffer.alloc(32, 7), Buffer.alloc(size), { chunkSize: C });
        const { body, firstChunk, lastChunk } = sealedRange({ start, end }, size, C);
        expect(body.offset).toBe(HEADER_SIZE + firstChunk * RECORD);
        expect(body.offset + body.length).toBe(
          Math.min(HEADER_SIZE + (lastChunk + 1) * RECORD, sealed.length),
        );
        expect(firstChunk).toBe(Math.floor(start / C));
        expect(lastChunk).toBe(Math.floor(end / C));
      }),
      { numRuns: 300 },
    );
  });
});

describe('plainSizeOf', () => {
  it('inverts sealedSize for every size and chunk size', () => {
    for (const chunk of [64, 128, 65536]) {
      for (let n = 0; n < 5 * chunk; n += chunk === 65536 ? 4093 : 1) {
        expect(plainSizeOf(sealedSize(n, chunk), chunk)).toBe(n);
      }
    }
  });

  it('is undefined for lengths no plaintext seals to', () => {
    // one byte more than 3C − 1 adds a whole (empty) final record: the 32 lengths between are no blob
    const short = sealedSize(3 * C - 1, C);
    expect(sealedSize(3 * C, C)).toBe(short + 1 + TAG_SIZE);
    for (const sealed of [0, HEADER_SIZE, HEADER_SIZE + TAG_SIZE - 1, short + 1, short + 32]) {
      expect(plainSizeOf(sealed, C)).toBeUndefined();
    }
  });
});

describe('counterAt', () => {
  it('adds 128-bit big-endian, carrying across every byte and wrapping at 2^128', () => {
    const key = randomBytes(32);
    const ivs = [
      Buffer.alloc(16),
      Buffer.from('00000000000000fffffffffffffffffe', 'hex'),
      Buffer.from('fffffffffffffffffffffffffffffffe', 'hex'),
      randomBytes(16),
    ];
    for (const iv of ivs) {
      for (const blocks of [0, 1, 2, 3, 255, 256, 4097]) {
        // block k of the keystream from iv equals block 0 of the keystream from iv + k
        const stream = createCipheriv('aes-256-ctr', key, iv).update(
          Buffer.alloc((blocks + 1) * 16),
        );
        const one = createCipheriv('aes-256-ctr', key, counterAt(iv, blocks)).update(
          Buffer.alloc(16),
        );
        expect(one.equals(stream.subarray(blocks * 16))).toBe(true);
      }
    }
  });
});
