// The put/get bench's file content: 1 MiB of random bytes, repeated with a counter and a seed in
// every 256 KiB piece (so no two pieces of a file match), the same in the bench and its nodes.
import { createCipheriv, randomBytes } from 'node:crypto';

const MIB = 1024 * 1024;
const PIECE = 256 * 1024;
// one pool per run: the nodes derive the bench's pool from the seed it passes in PUTGET_SEED
if (!process.env.PUTGET_SEED) process.env.PUTGET_SEED = randomBytes(32).toString('hex');
const seedKey = Buffer.from(process.env.PUTGET_SEED, 'hex');
const pool = createCipheriv('aes-256-ctr', seedKey, Buffer.alloc(16)).update(Buffer.alloc(MIB));

export function* generated(size, seed = 0) {
  for (let sent = 0, i = 0; sent < size; i++) {
    const n = Math.min(PIECE, size - sent);
    const at = (i * PIECE) % MIB;
    const piece = Buffer.from(pool.subarray(at, at + n));
    piece.writeUInt32BE(seed >>> 0, 0);
    if (n >= 8) piece.writeUInt32BE(i, 4);
    sent += n;
    yield piece;
  }
}
