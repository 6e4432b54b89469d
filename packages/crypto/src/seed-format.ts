// The seed format kept byte-compatible with the original design: a random 16-byte IV
// followed by the AES-256-CTR ciphertext, no tag. Streams in and out, bounded memory.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import {
  type ByteSource,
  endWritable,
  holdErrors,
  throwIfAborted,
  toBytes,
  writeChunk,
} from './byte-io.js';
import { BadHeaderError, KeySizeError } from './errors.js';
import { assertKey } from './keys.js';

export const IV_SIZE = 16;

export interface CopyOptions {
  signal?: AbortSignal;
  /** End `dst` when done. Default false: like the original io.Writer, the caller owns it. */
  end?: boolean;
}

function assertIv(iv: Uint8Array): void {
  if (!(iv instanceof Uint8Array) || iv.length !== IV_SIZE) {
    throw new KeySizeError(`IV must be ${IV_SIZE} bytes`);
  }
}

/**
 * Encrypts with an explicit IV; internal, so the NIST vectors can be checked. Writes the IV
 * first, then the ciphertext. Resolves the number of bytes written.
 */
export async function copyEncryptWithIv(
  key: Uint8Array,
  iv: Uint8Array,
  src: ByteSource,
  dst: Writable,
  options: CopyOptions = {},
): Promise<number> {
  assertKey(key);
  assertIv(iv);
  const { signal } = options;
  throwIfAborted(signal);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const release = holdErrors(src);
  try {
    await writeChunk(dst, Buffer.from(iv), signal);
    let written = IV_SIZE;
    for await (const chunk of src) {
      throwIfAborted(signal);
      const bytes = toBytes(chunk);
      if (bytes.length === 0) continue;
      const out = cipher.update(bytes);
      written += out.length;
      await writeChunk(dst, out, signal);
    }
    const tail = cipher.final();
    if (tail.length > 0) {
      written += tail.length;
      await writeChunk(dst, tail, signal);
    }
    if (options.end) await endWritable(dst);
    return written;
  } finally {
    release();
  }
}

/** Seed format: random IV ‖ AES-256-CTR(key, IV, src). Resolves the bytes written to dst. */
export function copyEncrypt(
  key: Uint8Array,
  src: ByteSource,
  dst: Writable,
  options: CopyOptions = {},
): Promise<number> {
  try {
    assertKey(key);
  } catch (err) {
    return Promise.reject(err);
  }
  return copyEncryptWithIv(key, randomBytes(IV_SIZE), src, dst, options);
}

/** Reads the IV from the front of src, then decrypts the rest. Resolves plaintext bytes written. */
export async function copyDecrypt(
  key: Uint8Array,
  src: ByteSource,
  dst: Writable,
  options: CopyOptions = {},
): Promise<number> {
  assertKey(key);
  const { signal } = options;
  throwIfAborted(signal);
  const iv = Buffer.alloc(IV_SIZE);
  let ivFill = 0;
  let decipher: ReturnType<typeof createDecipheriv> | undefined;
  let written = 0;
  for await (const chunk of src) {
    throwIfAborted(signal);
    let bytes = toBytes(chunk);
    if (!decipher) {
      const take = Math.min(IV_SIZE - ivFill, bytes.length);
      iv.set(bytes.subarray(0, take), ivFill);
      ivFill += take;
      bytes = bytes.subarray(take);
      if (ivFill < IV_SIZE) continue;
      decipher = createDecipheriv('aes-256-ctr', key, iv);
    }
    if (bytes.length === 0) continue;
    const out = decipher.update(bytes);
    written += out.length;
    await writeChunk(dst, out, signal);
  }
  if (!decipher) throw new BadHeaderError(`input shorter than the ${IV_SIZE}-byte IV`);
  const tail = decipher.final();
  if (tail.length > 0) {
    written += tail.length;
    await writeChunk(dst, tail, signal);
  }
  if (options.end) await endWritable(dst);
  return written;
}
