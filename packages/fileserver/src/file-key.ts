// What a file key may be, and the plaintext size of a sealed blob from its stored size:
// small rules the file server applies before any byte moves.

import { DEFAULT_CHUNK_SIZE, HEADER_SIZE, sealedSize, TAG_SIZE } from '@peerstash/crypto';
import { InvalidKeyError } from './errors.js';

export const MAX_KEY_BYTES = 4096;

/** Any non-empty, well-formed Unicode string up to MAX_KEY_BYTES of UTF-8; else ERR_INVALID_KEY. */
export function checkFileKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidKeyError('key must be a non-empty string');
  }
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new InvalidKeyError(`key is longer than ${MAX_KEY_BYTES} bytes`);
  }
  // lone surrogates would collapse to U+FFFD and make two keys collide
  if (Buffer.from(key, 'utf8').toString('utf8') !== key) {
    throw new InvalidKeyError('key is not well-formed Unicode');
  }
}

/** Plaintext size of a sealed blob of `sealed` bytes (the inverse of crypto's sealedSize). */
export function plainSizeOf(sealed: number, chunkSize: number): number | undefined {
  // every chunk but the last is full, and the last (final) one may be empty
  const body = sealed - HEADER_SIZE;
  if (body < TAG_SIZE) return undefined;
  const fullChunks = Math.floor((body - TAG_SIZE) / (chunkSize + TAG_SIZE));
  const plain = body - (fullChunks + 1) * TAG_SIZE;
  return plain >= 0 && sealedSize(plain, chunkSize) === sealed ? plain : undefined;
}

/** The sealed chunk size a blob records (`extra.chunkSize`; older blobs: crypto's default). */
export function chunkSizeOf(extra: Record<string, unknown> | undefined): number {
  return typeof extra?.chunkSize === 'number' ? extra.chunkSize : DEFAULT_CHUNK_SIZE;
}

/** Plaintext size of a stored blob; its sealed size when that does not decode. */
export function plainSizeOfBlob(meta: { size: number; extra?: Record<string, unknown> }): number {
  try {
    return plainSizeOf(meta.size, chunkSizeOf(meta.extra)) ?? meta.size;
  } catch {
    return meta.size;
  }
}
