import { createCipheriv, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HEADER_SIZE,
  newEncryptionKey,
  openBytes,
  openRange,
  type ReadAt,
  readRange,
  sealBytes,
  sealedRange,
  TAG_SIZE,
} from './index.js';
import { ChunkTagger, MAGIC, readFileKeys, VERSION } from './sealed-format.js';

const C = 64;
const RECORD = C + TAG_SIZE;

interface Outcome {
  plain: Buffer;
  code: string | undefined;
}

/** Collects every byte a stream emits, even after a failure, and how it ended. */
function collect(stream: Readable): Promise<Outcome> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let done = false;
    const finish = (code: string | undefined) => {
      if (done) return;
      done = true;
      resolve({ plain: Buffer.concat(parts), code });
    };
    stream.on('data', (chunk: Buffer) => parts.push(chunk));
    stream.on('error', (err: { code?: string }) => finish(err.code ?? 'untyped'));
    stream.on('end', () => finish(undefined));
  });
}

/** A readAt over a buffer that records what was asked of it. */
function reader(sealed: Buffer) {
  const calls: Array<[number, number]> = [];
  const readAt: ReadAt = async (offset, length) => {
    calls.push([offset, length]);
    return sealed.subarray(offset, offset + length);
  };
  return { readAt, calls };
}

/** The header and the covering records, cut into arbitrary pieces, through openRange. */
function openSpan(
  key: Buffer,
  sealed: Buffer,
  range: { start: number; end: number; plainSize: number },
  cuts: number[] = [],
  span = sealedRange(range, range.plainSize, C),
): Promise<Outcome> {
  const input = Buffer.concat([
    sealed.subarray(0, HEADER_SIZE),
    sealed.subarray(span.body.offset, span.body.offset + span.body.length),
  ]);
  const opener = openRange(key, range);
  const done = collect(opener);
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  let at = 0;
  for (const p of [...points, input.length]) {
    opener.write(input.subarray(at, p));
    at = p;
  }
  opener.end();
  return done;
}

function fixture(size = 5 * C + 17) {
  const key = newEncryptionKey();
  const plain = randomBytes(size);
  const sealed = sealBytes(key, plain, { chunkSize: C });
  return { key, plain, sealed };
}

/** Output of a failed read must be a prefix of the right bytes: never a wrong byte. */
function expectPrefixOf(outcome: Outcome, want: Buffer) {
  expect(outcome.plain.length).toBeLessThanOrEqual(want.length);
  expect(outcome.plain.equals(want.subarray(0, outcome.plain.length))).toBe(true);
}

describe('ranged open', () => {
  it('gives exactly the asked bytes at every boundary', async () => {
    const size = 5 * C + 17;
    const { key, plain, sealed } = fixture(size);
    const ranges: Array<[number, number]> = [
      [0, 0], // first byte
      [size - 1, size - 1], // last byte (in the short final record)
      [0, size - 1], // whole file
      [C - 1, C], // across a record edge
      [C, 2 * C - 1], // exactly one record
      [C - 1, 3 * C], // three edges
      [5 * C, size - 1], // the final record alone
      [17, 10 ** 9], // end past the file: clamped
    ];
    for (const [start, end] of ranges) {
      const want = plain.subarray(start, Math.min(end, size - 1) + 1);
      const range = { start, end, plainSize: size };
      expect(await openSpan(key, sealed, range, [1, 60, 200])).toEqual({
        plain: want,
        code: undefined,
      });
      const { readAt } = reader(sealed);
      expect(await collect(readRange(key, readAt, { ...range, readSize: 50 }))).toEqual({
        plain: want,
        code: undefined,
      });
    }
  });

  it("a 'check' pass releases nothing and catches a flipped byte; a 'decrypt' pass opens", async () => {
    const size = 5 * C + 17;
    const { key, plain, sealed } = fixture(size);
    for (const [start, end] of [
      [0, size - 1],
      [C - 1, 3 * C],
      [5 * C, size - 1],
    ] as const) {
      const range = { start, end, plainSize: size };
      const check = { ...range, pass: 'check' as const };
      expect(await openSpan(key, sealed, check, [1, 60])).toEqual({
        plain: Buffer.alloc(0),
        code: undefined,
      });
      const span = sealedRange(range, size, C);
      const bad = Buffer.from(sealed);
      bad[span.body.offset + 5]! ^= 1;
      expect((await openSpan(key, bad, check, [1, 60])).code).toBe('ERR_INTEGRITY');
      const decrypt = { ...range, pass: 'decrypt' as const };
      expect(await openSpan(key, sealed, decrypt, [1, 60, 200])).toEqual({
        plain: plain.subarray(start, end + 1),
        code: undefined,
      });
    }
  });

  it('reads only the header and the records that cover the range', async () => {
    const { key, sealed } = fixture(20 * C);
    const { readAt, calls } = reader(sealed);
    await collect(readRange(key, readAt, { start: 7 * C + 3, end: 8 * C, plainSize: 20 * C }));
    const span = sealedRange({ start: 7 * C + 3, end: 8 * C }, 20 * C, C).body;
    expect(calls).toEqual([
      [0, HEADER_SIZE],
      [span.offset, span.length],
    ]);
    expect(span.length).toBe(2 * RECORD);
  });

  it('a file of whole records: the last byte needs no read of the empty final record', async () => {
    const { key, plain, sealed } = fixture(3 * C);
    const { readAt, calls } = reader(sealed);
    const out = await collect(readRange(key, readAt, { start: 0, end: 3 * C, plainSize: 3 * C }));
    expect(out).toEqual({ plain, code: undefined });
    expect(calls.at(-1)).toEqual([HEADER_SIZE, 3 * RECORD]);
  });

  it('an empty file or a start past the end is ERR_RANGE_NOT_SATISFIABLE, at once', () => {
    const key = newEncryptionKey();
    const { readAt } = reader(sealBytes(key, Buffer.alloc(0)));
    expect(() => readRange(key, readAt, { start: 0, end: 0, plainSize: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_RANGE_NOT_SATISFIABLE' }),
    );
    expect(() => openRange(key, { start: 100, end: 200, plainSize: 100 })).toThrow(
      expect.objectContaining({ code: 'ERR_RANGE_NOT_SATISFIABLE' }),
    );
    expect(() => openRange(key, { start: 9, end: 2, plainSize: 100 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('matches a full open for any size, range and cut of the input (property)', async () => {
    const key = newEncryptionKey();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 9 * C }),
        fc.nat(),
        fc.nat(),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.integer({ min: 1, max: 300 }),
        async (size, a, b, cuts, readSize) => {
          const plain = randomBytes(size);
          const sealed = sealBytes(key, plain, { chunkSize: C });
          const start = a % size;
          const end = start + (b % (size - start + 3)); // sometimes past the end
          const want = openBytes(key, sealed).subarray(start, Math.min(end, size - 1) + 1);
          const range = { start, end, plainSize: size };
          expect(await openSpan(key, sealed, range, cuts)).toEqual({
            plain: want,
            code: undefined,
          });
          const { readAt } = reader(sealed);
          expect(await collect(readRange(key, readAt, { ...range, readSize }))).toEqual({
            plain: want,
            code: undefined,
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a flipped bit anywhere in what is read fails, never releasing a wrong byte', async () => {
    const size = 6 * C + 9;
    const { key, plain, sealed } = fixture(size);
    for (const [start, end] of [
      [C + 5, 3 * C + 1],
      [5 * C, size - 1],
    ] as const) {
      const span = sealedRange({ start, end }, size, C).body;
      const want = plain.subarray(start, end + 1);
      const read = [
        ...Array.from({ length: HEADER_SIZE }, (_, i) => i),
        ...Array.from({ length: span.length }, (_, i) => span.offset + i),
      ];
      for (const at of read) {
        const bad = Buffer.from(sealed);
        bad[at] = (bad[at] as number) ^ (1 << (at % 8));
        const { readAt } = reader(bad);
        const outcome = await collect(readRange(key, readAt, { start, end, plainSize: size }));
        if (at < 4) expect(outcome.code).toBe('ERR_BAD_HEADER');
        else if (at === 4) expect(outcome.code).toBe('ERR_UNSUPPORTED_VERSION');
        else if (at === 5) expect(['ERR_BAD_HEADER', 'ERR_INTEGRITY']).toContain(outcome.code);
        else expect(outcome.code).toBe('ERR_INTEGRITY');
        expectPrefixOf(outcome, want);
      }
    }
  });

  it('a flipped bit in a record outside the range is not read, so the range still opens', async () => {
    const { key, plain, sealed } = fixture(6 * C);
    const bad = Buffer.from(sealed);
    bad[HEADER_SIZE + 4 * RECORD + 3]! ^= 1;
    const { readAt } = reader(bad);
    const out = await collect(readRange(key, readAt, { start: C, end: 2 * C, plainSize: 6 * C }));
    expect(out).toEqual({ plain: plain.subarray(C, 2 * C + 1), code: undefined });
  });

  it('cut, padded, shifted or swapped records and a wrong key fail', async () => {
    const size = 6 * C + 9;
    const { key, plain, sealed } = fixture(size);
    const range = { start: 2 * C, end: 4 * C + 1, plainSize: size };
    const want = plain.subarray(range.start, range.end + 1);
    const span = sealedRange(range, size, C);
    const cases: Array<{ offset: number; length: number }> = [
      { offset: span.body.offset, length: span.body.length - 1 }, // truncated
      { offset: span.body.offset, length: span.body.length - RECORD }, // a record short
      { offset: span.body.offset, length: span.body.length + 1 }, // a byte too many
      { offset: span.body.offset + RECORD, length: span.body.length }, // shifted by a record
      { offset: span.body.offset - RECORD, length: span.body.length }, // one before
    ];
    for (const body of cases) {
      const outcome = await openSpan(key, sealed, range, [7], { ...span, body });
      expect(outcome.code).toBe('ERR_INTEGRITY');
      expectPrefixOf(outcome, want);
    }
    const { readAt } = reader(sealed);
    const wrongKey = await collect(readRange(newEncryptionKey(), readAt, range));
    expect(wrongKey).toEqual({ plain: Buffer.alloc(0), code: 'ERR_INTEGRITY' });
  });

  it('a plaintext size that does not match the blob fails, never giving wrong bytes', async () => {
    const size = 4 * C + 20;
    const { key, plain, sealed } = fixture(size);
    for (const claimed of [size - 1, size + 1, size + C, 3 * C + 20]) {
      const { readAt } = reader(sealed);
      const end = Math.min(size, claimed) - 1;
      const outcome = await collect(
        readRange(key, readAt, { start: 3 * C, end, plainSize: claimed }),
      );
      expect(outcome.code).toBe('ERR_INTEGRITY');
      expectPrefixOf(outcome, plain.subarray(3 * C));
    }
    // a range that reads only whole records is sound whatever the size says past them
    const { readAt } = reader(sealed);
    const inner = await collect(
      readRange(key, readAt, { start: 3 * C, end: 4 * C - 1, plainSize: 4 * C }),
    );
    expect(inner).toEqual({ plain: plain.subarray(3 * C, 4 * C), code: undefined });
  });

  it('runs the counter on across a 64-bit carry far into the file', async () => {
    // a blob with an IV two blocks short of a carry out of the low 64 bits
    const key = newEncryptionKey();
    const header = Buffer.alloc(HEADER_SIZE);
    MAGIC.copy(header, 0);
    header[4] = VERSION;
    header[5] = 6;
    randomBytes(32).copy(header, 6);
    Buffer.from('0123456789abcdeffffffffffffffffe', 'hex').copy(header, 38);
    const keys = readFileKeys(key, header);
    const plain = randomBytes(4 * C + 5);
    const cipher = createCipheriv('aes-256-ctr', keys.encKey, keys.iv);
    const tagger = new ChunkTagger(keys);
    const parts = [header];
    for (let i = 0; i <= 4; i++) {
      const ct = cipher.update(plain.subarray(i * C, (i + 1) * C));
      parts.push(ct, tagger.tag(i, i === 4, [ct]));
    }
    const sealed = Buffer.concat(parts);
    expect(openBytes(key, sealed).equals(plain)).toBe(true);
    const { readAt } = reader(sealed);
    const out = await collect(
      readRange(key, readAt, { start: 2 * C + 1, end: 4 * C + 2, plainSize: plain.length }),
    );
    expect(out).toEqual({ plain: plain.subarray(2 * C + 1, 4 * C + 3), code: undefined });
  });

  it('stops with ERR_ABORTED when its signal fires, and hands on a read error', async () => {
    const { key, sealed } = fixture(20 * C);
    const controller = new AbortController();
    const readAt: ReadAt = async (offset, length) => {
      if (offset > 0) controller.abort();
      return sealed.subarray(offset, offset + length);
    };
    const range = { start: 0, end: 20 * C - 1, plainSize: 20 * C, readSize: RECORD };
    const aborted = await collect(readRange(key, readAt, { ...range, signal: controller.signal }));
    expect(aborted.code).toBe('ERR_ABORTED');
    const failing: ReadAt = async (offset) => {
      if (offset > 0) throw Object.assign(new Error('disk'), { code: 'EIO' });
      return sealed.subarray(0, HEADER_SIZE);
    };
    expect((await collect(readRange(key, failing, range))).code).toBe('EIO');
  });
});
