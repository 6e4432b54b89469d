import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HEADER_SIZE, newEncryptionKey, open, openBytes, sealBytes, TAG_SIZE } from './index.js';

const CHUNK = 64;
const RECORD = CHUNK + TAG_SIZE;

interface Outcome {
  plain: Buffer;
  code: string | undefined;
}

/**
 * Feeds `pieces` to an opener and collects every byte it emits, even after a failure,
 * so the tests can check that nothing of a bad chunk ever came out.
 */
function openCollect(key: Uint8Array, pieces: Uint8Array[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const opener = open(key);
    const parts: Buffer[] = [];
    let done = false;
    const finish = (code: string | undefined) => {
      if (done) return;
      done = true;
      resolve({ plain: Buffer.concat(parts), code });
    };
    opener.on('data', (chunk: Buffer) => parts.push(chunk));
    opener.on('error', (err: { code?: string }) => finish(err.code ?? 'untyped'));
    opener.on('end', () => finish(undefined));
    for (const piece of pieces) opener.write(piece);
    opener.end();
  });
}

function fixture(size = 5 * CHUNK + 17) {
  const key = newEncryptionKey();
  const plain = randomBytes(size);
  const sealed = sealBytes(key, plain, { chunkSize: CHUNK });
  return { key, plain, sealed };
}

/** Plaintext released before a failure must be whole chunks that came before the bad one. */
function expectOnlyGoodPrefix(outcome: Outcome, plain: Buffer, firstBadChunk: number) {
  expect(outcome.plain.length).toBeLessThanOrEqual(firstBadChunk * CHUNK);
  expect(outcome.plain.length % CHUNK).toBe(0);
  expect(outcome.plain.equals(plain.subarray(0, outcome.plain.length))).toBe(true);
}

function record(sealed: Buffer, i: number) {
  return sealed.subarray(HEADER_SIZE + i * RECORD, HEADER_SIZE + (i + 1) * RECORD);
}

describe('open rejects anything that is not the sealed blob', () => {
  it('opens the untouched fixtures (so the failures below mean something)', async () => {
    for (const size of [0, CHUNK, 5 * CHUNK + 17]) {
      const { key, plain, sealed } = fixture(size);
      const pieces = [sealed.subarray(0, 7), sealed.subarray(7, 100), sealed.subarray(100)];
      expect(await openCollect(key, pieces)).toEqual({ plain, code: undefined });
      expect(openBytes(key, sealed).equals(plain)).toBe(true);
    }
  });

  it('every single flipped bit fails with its code, releasing no bad plaintext', async () => {
    const { key, plain, sealed } = fixture(2 * CHUNK + 20);
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const bad = Buffer.from(sealed);
      const at = bit >> 3;
      bad[at] = (bad[at] as number) ^ (1 << (bit & 7));
      const outcome = await openCollect(key, [bad]);
      if (at < 4) expect(outcome.code).toBe('ERR_BAD_HEADER');
      else if (at === 4) expect(outcome.code).toBe('ERR_UNSUPPORTED_VERSION');
      else if (at === 5) expect(['ERR_BAD_HEADER', 'ERR_INTEGRITY']).toContain(outcome.code);
      else expect(outcome.code).toBe('ERR_INTEGRITY');
      const chunk = at < HEADER_SIZE ? 0 : Math.floor((at - HEADER_SIZE) / RECORD);
      expectOnlyGoodPrefix(outcome, plain, chunk);
      expect(() => openBytes(key, bad)).toThrow(expect.objectContaining({ code: outcome.code }));
    }
  });

  it('a flipped bit anywhere fails, however the input is cut (property)', async () => {
    const { key, plain, sealed } = fixture(9 * CHUNK + 3);
    await fc.assert(
      fc.asyncProperty(
        fc.nat(sealed.length * 8 - 1),
        fc.array(fc.nat(sealed.length), { maxLength: 8 }),
        async (bit, cuts) => {
          const bad = Buffer.from(sealed);
          const at = Math.max(HEADER_SIZE, bit >> 3);
          bad[at] = (bad[at] as number) ^ (1 << (bit & 7));
          const points = [...new Set(cuts)].sort((a, b) => a - b);
          const pieces = [...points, bad.length].map((p, i) => bad.subarray(points[i - 1] ?? 0, p));
          const outcome = await openCollect(key, pieces);
          expect(outcome.code).toBe('ERR_INTEGRITY');
          expectOnlyGoodPrefix(outcome, plain, Math.floor((at - HEADER_SIZE) / RECORD));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('truncation at and between chunk boundaries fails', async () => {
    const { key, plain, sealed } = fixture();
    for (let length = 0; length < sealed.length; length++) {
      const outcome = await openCollect(key, [sealed.subarray(0, length)]);
      expect(outcome.code).toBe(length < HEADER_SIZE ? 'ERR_BAD_HEADER' : 'ERR_INTEGRITY');
      const whole = Math.max(0, Math.floor((length - HEADER_SIZE) / RECORD));
      expectOnlyGoodPrefix(outcome, plain, whole);
      expect(() => openBytes(key, sealed.subarray(0, length))).toThrow(
        expect.objectContaining({ code: outcome.code }),
      );
    }
  });

  it('a dropped final chunk fails, also when the file is a whole number of chunks', async () => {
    for (const size of [3 * CHUNK + 5, 3 * CHUNK]) {
      const { key, plain, sealed } = fixture(size);
      const withoutFinal = sealed.subarray(0, HEADER_SIZE + 3 * RECORD);
      const outcome = await openCollect(key, [withoutFinal]);
      expect(outcome.code).toBe('ERR_INTEGRITY');
      expectOnlyGoodPrefix(outcome, plain, 3);
    }
  });

  it('swapped, dropped and repeated chunks fail', async () => {
    const { key, plain, sealed } = fixture();
    const header = sealed.subarray(0, HEADER_SIZE);
    const rest = (from: number) => sealed.subarray(HEADER_SIZE + from * RECORD);
    const variants: Array<[Buffer, number]> = [
      [Buffer.concat([header, record(sealed, 1), record(sealed, 0), rest(2)]), 0],
      [
        Buffer.concat([header, record(sealed, 0), record(sealed, 2), record(sealed, 1), rest(3)]),
        1,
      ],
      [Buffer.concat([header, record(sealed, 0), rest(2)]), 1],
      [Buffer.concat([header, record(sealed, 0), record(sealed, 0), rest(1)]), 1],
      [Buffer.concat([sealed, Buffer.from('trailing junk')]), 5],
    ];
    for (const [bad, firstBad] of variants) {
      const outcome = await openCollect(key, [bad]);
      expect(outcome.code).toBe('ERR_INTEGRITY');
      expectOnlyGoodPrefix(outcome, plain, firstBad);
    }
  });

  it('a chunk moved between two blobs under the same key fails', async () => {
    const a = fixture();
    const b = sealBytes(a.key, randomBytes(a.plain.length), { chunkSize: CHUNK });
    const spliced = Buffer.concat([
      a.sealed.subarray(0, HEADER_SIZE + RECORD),
      record(b, 1),
      a.sealed.subarray(HEADER_SIZE + 2 * RECORD),
    ]);
    const outcome = await openCollect(a.key, [spliced]);
    expect(outcome.code).toBe('ERR_INTEGRITY');
    expectOnlyGoodPrefix(outcome, a.plain, 1);
  });

  it('a wrong key fails with ERR_INTEGRITY and releases nothing', async () => {
    const { sealed } = fixture();
    const outcome = await openCollect(newEncryptionKey(), [sealed]);
    expect(outcome.code).toBe('ERR_INTEGRITY');
    expect(outcome.plain.length).toBe(0);
  });

  it('an unknown version fails with ERR_UNSUPPORTED_VERSION', async () => {
    const { key, sealed } = fixture();
    for (const version of [0, 2, 0xff]) {
      const bad = Buffer.from(sealed);
      bad[4] = version;
      const outcome = await openCollect(key, [bad]);
      expect(outcome).toEqual({ plain: Buffer.alloc(0), code: 'ERR_UNSUPPORTED_VERSION' });
    }
  });

  it('junk, an out-of-range chunk size and a cut header fail with ERR_BAD_HEADER', async () => {
    const { key, sealed } = fixture();
    const badSize = Buffer.from(sealed);
    badSize[5] = 40;
    for (const bad of [Buffer.from('hello, world'), badSize, sealed.subarray(0, 10)]) {
      const outcome = await openCollect(key, [bad]);
      expect(outcome.code).toBe('ERR_BAD_HEADER');
      expect(() => openBytes(key, bad)).toThrow(
        expect.objectContaining({ code: 'ERR_BAD_HEADER' }),
      );
    }
    // Junk is refused on its first byte, without waiting for a whole header.
    const opener = open(key);
    const failed = new Promise((resolve) => opener.on('error', resolve));
    opener.write(Buffer.from('G'));
    expect(await failed).toMatchObject({ code: 'ERR_BAD_HEADER' });
  });
});
