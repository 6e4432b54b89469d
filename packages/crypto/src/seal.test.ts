import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CHUNK_SIZE,
  HEADER_SIZE,
  newEncryptionKey,
  open,
  openBytes,
  seal,
  sealBytes,
  sealedSize,
  TAG_SIZE,
} from './index.js';

function cut(data: Uint8Array, cuts: number[]): Buffer[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, buf.length]) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  return out;
}

async function run(chunks: Iterable<Uint8Array>, transform: NodeJS.ReadWriteStream) {
  const parts: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    transform,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        parts.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

const sealStream = (key: Uint8Array, chunks: Iterable<Uint8Array>, chunkSize?: number) =>
  run(chunks, seal(key, chunkSize === undefined ? {} : { chunkSize }));
const openStream = (key: Uint8Array, chunks: Iterable<Uint8Array>) => run(chunks, open(key));

describe('seal / open round trips', () => {
  const cs = DEFAULT_CHUNK_SIZE;
  for (const size of [0, 1, cs - 1, cs, cs + 1, 2 * cs, 3 * 1024 * 1024 + 7]) {
    it(`round-trips ${size} bytes with the exact sealed size`, async () => {
      const key = newEncryptionKey();
      const plain = randomBytes(size);
      const sealed = await sealStream(key, cut(plain, [1000, 70_000, 1_000_003]));
      expect(sealed.length).toBe(sealedSize(size));
      expect(sealed.subarray(0, 4).toString('latin1')).toBe('PSB1');
      expect(sealed[4]).toBe(1);
      expect(sealed[5]).toBe(16);
      const opened = await openStream(key, cut(sealed, [3, 54, 65_590, 200_000]));
      expect(opened.equals(plain)).toBe(true);
    });
  }

  it('seals an empty file as a header and one empty final chunk', async () => {
    const sealed = await sealStream(newEncryptionKey(), []);
    expect(sealed.length).toBe(HEADER_SIZE + TAG_SIZE);
  });

  it('round-trips any size, chunk size and input chunking (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(64, 128, 1024, 4096),
        fc.integer({ min: 0, max: 12_000 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (chunkSize, size, sealCuts, openCuts) => {
          const key = newEncryptionKey();
          const plain = randomBytes(size);
          const sealed = await sealStream(key, cut(plain, sealCuts), chunkSize);
          expect(sealed.length).toBe(sealedSize(size, chunkSize));
          const opened = await openStream(key, cut(sealed, openCuts));
          expect(opened.equals(plain)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('streams and buffers speak the same format (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Sizes come from fc.integer: fc.uint8Array's default size bias keeps arrays tiny.
        fc.integer({ min: 0, max: 5000 }),
        fc.constantFrom(64, 512, 65536),
        async (size, chunkSize) => {
          const key = newEncryptionKey();
          const plain = randomBytes(size);
          const fromStream = await sealStream(key, [plain], chunkSize);
          expect(openBytes(key, fromStream).equals(Buffer.from(plain))).toBe(true);
          const fromBytes = sealBytes(key, plain, { chunkSize });
          expect(fromBytes.length).toBe(fromStream.length);
          expect((await openStream(key, [fromBytes])).equals(Buffer.from(plain))).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('two seals of the same plaintext under the same key differ', async () => {
    const key = newEncryptionKey();
    const plain = Buffer.from('the same plaintext, twice');
    const a = await sealStream(key, [plain]);
    const b = await sealStream(key, [plain]);
    expect(a.equals(b)).toBe(false);
    // Salt and IV are fresh, so even the ciphertext bodies share nothing.
    expect(a.subarray(6, HEADER_SIZE).equals(b.subarray(6, HEADER_SIZE))).toBe(false);
    expect(sealBytes(key, plain).equals(sealBytes(key, plain))).toBe(false);
  });

  it('holds bounded memory while sealing and opening a long generated stream', async () => {
    const key = newEncryptionKey();
    const piece = randomBytes(65_536);
    const total = 64 * 1024 * 1024;
    async function* plaintext() {
      for (let sent = 0; sent < total; sent += piece.length) yield piece;
    }
    let seen = 0;
    let maxBuffered = 0;
    const sealer = seal(key);
    const opener = open(key);
    await pipeline(
      plaintext(),
      sealer,
      opener,
      new Writable({
        highWaterMark: 65_536,
        write(chunk: Buffer, _enc, cb) {
          seen += chunk.length;
          maxBuffered = Math.max(
            maxBuffered,
            sealer.readableLength + sealer.writableLength,
            opener.readableLength + opener.writableLength,
          );
          setImmediate(cb);
        },
      }),
    );
    expect(seen).toBe(total);
    expect(maxBuffered).toBeLessThan(1024 * 1024);
  });

  it('rejects bad keys and chunk sizes at once with typed errors', () => {
    expect(() => seal(Buffer.alloc(16))).toThrow(expect.objectContaining({ code: 'ERR_KEY_SIZE' }));
    expect(() => open(Buffer.alloc(64))).toThrow(expect.objectContaining({ code: 'ERR_KEY_SIZE' }));
    for (const chunkSize of [0, 32, 1000, 2 ** 25, -64, 1.5]) {
      expect(() => seal(newEncryptionKey(), { chunkSize })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
    expect(() => sealedSize(-1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('sealedSize accounts for the short final chunk', () => {
    expect(sealedSize(0)).toBe(HEADER_SIZE + TAG_SIZE);
    expect(sealedSize(1)).toBe(HEADER_SIZE + 1 + TAG_SIZE);
    expect(sealedSize(65_536)).toBe(HEADER_SIZE + 65_536 + 2 * TAG_SIZE);
    expect(sealedSize(100, 64)).toBe(HEADER_SIZE + 100 + 2 * TAG_SIZE);
  });
});
