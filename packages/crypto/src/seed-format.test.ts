import { randomBytes } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyDecrypt, copyEncrypt } from './index.js';
import { copyEncryptWithIv } from './seed-format.js';

// NIST SP 800-38A, F.5.5 CTR-AES256.Encrypt and F.5.6 CTR-AES256.Decrypt.
const NIST_KEY = Buffer.from(
  '603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4',
  'hex',
);
const NIST_IV = Buffer.from('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff', 'hex');
const NIST_PLAIN = Buffer.from(
  '6bc1bee22e409f96e93d7e117393172a' +
    'ae2d8a571e03ac9c9eb76fac45af8e51' +
    '30c81c46a35ce411e5fbc1191a0a52ef' +
    'f69f2445df4f9b17ad2b417be66c3710',
  'hex',
);
const NIST_CIPHER = Buffer.from(
  '601ec313775789a5b7a7f504bbf3d228' +
    'f443e3ca4d62b59aca84e990cacaf5c5' +
    '2b0930daa23de94ce87017ba2d84988d' +
    'dfc9c58db67aada613c2dd08457941a6',
  'hex',
);

/** A Writable that keeps what it is given; small highWaterMark so backpressure happens. */
function collector(highWaterMark = 1024) {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      setImmediate(cb);
    },
  });
  // Chunks may still sit in the Writable's buffer when a copy resolves: end and wait first.
  const bytes = async () => {
    if (!stream.writableFinished) await new Promise((r) => stream.end(r));
    return Buffer.concat(chunks);
  };
  return { stream, bytes };
}

function split(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, data.length]) {
    out.push(data.subarray(prev, p));
    prev = p;
  }
  return out;
}

describe('seed format (IV ‖ AES-256-CTR)', () => {
  it('matches NIST SP 800-38A F.5.5 (encrypt) with the IV written first', async () => {
    const out = collector();
    const n = await copyEncryptWithIv(NIST_KEY, NIST_IV, [NIST_PLAIN], out.stream);
    expect(n).toBe(16 + 64);
    expect((await out.bytes()).toString('hex')).toBe(
      Buffer.concat([NIST_IV, NIST_CIPHER]).toString('hex'),
    );
  });

  it('matches NIST SP 800-38A F.5.6 (decrypt) from IV ‖ ciphertext', async () => {
    const out = collector();
    const n = await copyDecrypt(NIST_KEY, [NIST_IV, NIST_CIPHER], out.stream);
    expect(n).toBe(64);
    expect((await out.bytes()).toString('hex')).toBe(NIST_PLAIN.toString('hex'));
  });

  it('gives the NIST vectors however the input is cut', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(200), { maxLength: 10 }), async (cuts) => {
        const enc = collector();
        await copyEncryptWithIv(NIST_KEY, NIST_IV, split(NIST_PLAIN, cuts), enc.stream);
        expect((await enc.bytes()).subarray(16).equals(NIST_CIPHER)).toBe(true);
        const dec = collector();
        const sealed = Buffer.concat([NIST_IV, NIST_CIPHER]);
        await copyDecrypt(NIST_KEY, split(sealed, cuts), dec.stream);
        expect((await dec.bytes()).equals(NIST_PLAIN)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('round-trips random data through Node streams with random chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Sizes come from fc.integer: fc.uint8Array's default size bias keeps arrays tiny.
        fc.integer({ min: 0, max: 70_000 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (size, cuts) => {
          const key = randomBytes(32);
          const plain = randomBytes(size);
          const enc = collector();
          const written = await copyEncrypt(key, Readable.from(split(plain, cuts)), enc.stream);
          const sealed = await enc.bytes();
          expect(written).toBe(plain.length + 16);
          expect(sealed.length).toBe(written);
          const dec = collector();
          const n = await copyDecrypt(key, Readable.from(split(sealed, cuts)), dec.stream);
          expect(n).toBe(plain.length);
          expect((await dec.bytes()).equals(plain)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('uses a fresh random IV each time', async () => {
    const key = randomBytes(32);
    const a = collector();
    const b = collector();
    await copyEncrypt(key, [Buffer.from('same plaintext')], a.stream);
    await copyEncrypt(key, [Buffer.from('same plaintext')], b.stream);
    expect((await a.bytes()).equals(await b.bytes())).toBe(false);
  });

  it('leaves dst open by default and ends it with { end: true }', async () => {
    const key = randomBytes(32);
    const open = new PassThrough();
    await copyEncrypt(key, [Buffer.from('x')], open);
    expect(open.writableEnded).toBe(false);
    open.destroy();
    const ended = new PassThrough();
    ended.resume();
    await copyEncrypt(key, [Buffer.from('x')], ended, { end: true });
    expect(ended.writableFinished).toBe(true);
  });

  it('rejects wrong key sizes with ERR_KEY_SIZE', async () => {
    const out = collector();
    await expect(copyEncrypt(Buffer.alloc(16), [], out.stream)).rejects.toMatchObject({
      code: 'ERR_KEY_SIZE',
    });
    await expect(copyDecrypt(Buffer.alloc(31), [], out.stream)).rejects.toMatchObject({
      code: 'ERR_KEY_SIZE',
    });
  });

  it('rejects input shorter than the IV with ERR_BAD_HEADER', async () => {
    const out = collector();
    await expect(
      copyDecrypt(randomBytes(32), [Buffer.alloc(15)], out.stream),
    ).rejects.toMatchObject({ code: 'ERR_BAD_HEADER' });
  });

  it('stops with ERR_ABORTED when the signal fires', async () => {
    const controller = new AbortController();
    async function* endless() {
      for (;;) {
        yield Buffer.alloc(4096);
        await new Promise((r) => setImmediate(r));
      }
    }
    const out = collector();
    setTimeout(() => controller.abort(), 20);
    await expect(
      copyEncrypt(randomBytes(32), endless(), out.stream, { signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });

  it('fails with ERR_CLOSED when the destination is already closed', async () => {
    const closed = new PassThrough();
    closed.destroy();
    await expect(copyEncrypt(randomBytes(32), [Buffer.alloc(10)], closed)).rejects.toMatchObject({
      code: 'ERR_CLOSED',
    });
  });

  it('passes on the error of a failing destination', async () => {
    const broken = new Writable({
      write(_chunk, _enc, cb) {
        cb(new Error('disk on fire'));
      },
    });
    broken.on('error', () => {});
    await expect(copyEncrypt(randomBytes(32), [Buffer.alloc(100_000)], broken)).rejects.toThrow();
  });

  it('a source that fails while dst is still backed up rejects the copy and crashes nothing', async () => {
    const slow = new Writable({
      highWaterMark: 1,
      write(_chunk, _enc, cb) {
        setTimeout(cb, 20);
      },
    });
    const src = new Readable({ read() {} });
    src.destroy(Object.assign(new Error('source broke early'), { code: 'E_EARLY' }));
    await expect(copyEncrypt(randomBytes(32), src, slow)).rejects.toMatchObject({
      code: 'E_EARLY',
    });
  });
});
