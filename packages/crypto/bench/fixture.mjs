// Bench fixtures shared by run.mjs and range.mjs: a generated plaintext stream and the same bytes
// sealed once into memory, so an open run pays for no file I/O.
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { seal, sealedSize } from '../dist/index.js';

const MIB = 1024 * 1024;
const source = randomBytes(MIB);

/** `total` bytes in `piece`-byte views of one random MiB. */
export function* plaintext(total, piece) {
  for (let sent = 0; sent < total; sent += piece) {
    const at = sent % MIB;
    yield source.subarray(at, at + Math.min(piece, total - sent));
  }
}

/** `total` bytes of plaintext sealed under `key` into one buffer. */
export async function sealedFixture(key, total, piece = 65536) {
  const sealed = Buffer.allocUnsafe(sealedSize(total));
  let filled = 0;
  await pipeline(
    Readable.from(plaintext(total, piece)),
    seal(key),
    new Writable({
      write(chunk, _enc, cb) {
        filled += chunk.copy(sealed, filled);
        cb();
      },
    }),
  );
  if (filled !== sealed.length) throw new Error('sealed fixture has the wrong size');
  return sealed;
}
