import { createCipheriv, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CryptoPool } from './crypto-pool.js';
import { HEADER_SIZE, newEncryptionKey, open, seal, sealedSize, TAG_SIZE } from './index.js';
import type { BatchJob, BatchRunner } from './pool-job.js';
import { PoolOpenTransform } from './pool-open.js';
import { PoolSealTransform } from './pool-seal.js';
import { ChunkTagger, readFileKeys } from './sealed-format.js';

const pool = new CryptoPool({ threads: 2, batchBytes: 1024, batchesInFlight: 3 });
afterAll(() => pool.close());

/** Cuts `bytes` at the given offsets (sorted, deduplicated) into pieces. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    pieces.push(bytes.subarray(from, c));
    from = c;
  }
  return pieces.filter((p) => p.length > 0);
}

async function run(pieces: Buffer[], transform: NodeJS.ReadWriteStream): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces),
    transform,
    new Writable({
      write(chunk: Buffer, _e, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

async function codeOf(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code ?? 'untyped';
  }
}

/** The PSB1 bytes of `plain` under the header of `sealed`, written out from the format spec. */
function reference(key: Uint8Array, sealed: Buffer, plain: Buffer, chunkSize: number): Buffer {
  const keys = readFileKeys(key, sealed.subarray(0, HEADER_SIZE));
  const ct = createCipheriv('aes-256-ctr', keys.encKey, keys.iv).update(plain);
  const tagger = new ChunkTagger(keys);
  const parts = [keys.header];
  const records = Math.floor(plain.length / chunkSize) + 1;
  for (let i = 0; i < records; i++) {
    const body = ct.subarray(i * chunkSize, Math.min((i + 1) * chunkSize, ct.length));
    parts.push(body, tagger.tag(i, i === records - 1, [body]));
  }
  return Buffer.concat(parts);
}

describe('CryptoPool seal and open', () => {
  it('seals exactly the PSB1 bytes, which open and pool.open both open, for any split', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(20_000),
        fc.integer({ min: 6, max: 12 }),
        fc.array(fc.nat(40_000), { maxLength: 6 }),
        async (size, log2, cuts) => {
          const key = newEncryptionKey();
          const chunkSize = 2 ** log2;
          const plain = randomBytes(size);
          const sealed = await run(split(plain, cuts), pool.seal(key, { chunkSize }));
          expect(sealed.length).toBe(sealedSize(size, chunkSize));
          expect(sealed.equals(reference(key, sealed, plain, chunkSize))).toBe(true);
          expect((await run(split(sealed, cuts), open(key))).equals(plain)).toBe(true);
          expect((await run(split(sealed, cuts), pool.open(key))).equals(plain)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('opens what the inline seal wrote, with the default chunk and batch sizes', async () => {
    const big = new CryptoPool({ threads: 2 });
    try {
      const key = newEncryptionKey();
      for (const size of [0, 65536, 3 * 1024 * 1024 + 5]) {
        const plain = randomBytes(size);
        const sealed = await run([plain], seal(key));
        expect((await run(split(sealed, [7, 70_000]), big.open(key))).equals(plain)).toBe(true);
      }
    } finally {
      await big.close();
    }
  });

  it('catches every flipped bit, cut and wrong key, releasing only verified batches', async () => {
    const key = newEncryptionKey();
    const chunkSize = 64;
    const plain = randomBytes(40 * chunkSize + 9);
    const sealed = await run([plain], seal(key, { chunkSize }));
    await fc.assert(
      fc.asyncProperty(fc.nat(sealed.length * 8 - 1), async (bit) => {
        const bad = Buffer.from(sealed);
        bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
        const out: Buffer[] = [];
        const opener = pool.open(key);
        opener.on('data', (c: Buffer) => out.push(c));
        const code = await codeOf(pipeline(Readable.from([bad]), opener));
        expect(code).toMatch(/^ERR_(INTEGRITY|BAD_HEADER|UNSUPPORTED_VERSION)$/);
        const got = Buffer.concat(out);
        const badChunk = Math.floor(Math.max(0, (bit >> 3) - HEADER_SIZE) / (chunkSize + TAG_SIZE));
        expect(got.length).toBeLessThanOrEqual(badChunk * chunkSize);
        expect(got.equals(plain.subarray(0, got.length))).toBe(true);
      }),
      { numRuns: 80 },
    );
    const record = chunkSize + TAG_SIZE;
    for (const cut of [HEADER_SIZE + 3 * record, HEADER_SIZE + 39 * record, sealed.length - 1]) {
      expect(await codeOf(run([sealed.subarray(0, cut)], pool.open(key)))).toBe('ERR_INTEGRITY');
    }
    expect(await codeOf(run([sealed], pool.open(newEncryptionKey())))).toBe('ERR_INTEGRITY');
    expect(await codeOf(run([], pool.open(key)))).toBe('ERR_BAD_HEADER');
    expect(await codeOf(run([sealed.subarray(0, 20)], pool.open(key)))).toBe('ERR_BAD_HEADER');
  });

  it('cuts one input chunk of many batches into them a bound at a time, each way', async () => {
    // the real pool, watched: how many of a stream's batches are out at once
    let out = 0;
    let most = 0;
    const watched: BatchRunner = {
      run(job: BatchJob) {
        most = Math.max(most, ++out);
        return pool.run(job).finally(() => out--);
      },
    };
    const key = newEncryptionKey();
    const plain = randomBytes(64 * 1024 + 77);
    const sealed = await run(
      [plain],
      new PoolSealTransform(watched, key, { chunkSize: 512 }, 1024, 3),
    );
    expect(most).toBe(3);
    expect((await run([sealed], open(key))).equals(plain)).toBe(true);
    most = 0;
    const opened = await run([sealed], new PoolOpenTransform(watched, key, 1024, 3));
    expect(most).toBe(3);
    expect(opened.equals(plain)).toBe(true);
  });

  it('throws typed errors at once for a bad key, chunk size or option', () => {
    expect(() => pool.seal(Buffer.alloc(5))).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_SIZE' }),
    );
    expect(() => pool.seal(newEncryptionKey(), { chunkSize: 1000 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => new CryptoPool({ threads: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
