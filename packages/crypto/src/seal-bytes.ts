// In-memory seal/open for small values (file names, metadata): the same PSB1 format as
// the streaming transforms, synchronous, one output allocation.
import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';
import { BadHeaderError, IntegrityError, InvalidArgumentError } from './errors.js';
import { assertKey } from './keys.js';
import {
  ChunkTagger,
  checkHeaderPrefix,
  DEFAULT_CHUNK_SIZE,
  HEADER_SIZE,
  newFileKeys,
  readFileKeys,
  sealedSize,
  TAG_SIZE,
} from './sealed-format.js';

function assertBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array))
    throw new InvalidArgumentError(`${what} must be a Uint8Array`);
}

export function sealBytes(
  vaultKey: Uint8Array,
  data: Uint8Array,
  options: { chunkSize?: number } = {},
): Buffer {
  const keys = newFileKeys(vaultKey, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  assertBytes(data, 'data');
  const { chunkSize } = keys;
  const out = Buffer.allocUnsafe(sealedSize(data.length, chunkSize));
  keys.header.copy(out, 0);
  const cipher = createCipheriv('aes-256-ctr', keys.encKey, keys.iv);
  const tagger = new ChunkTagger(keys);
  let pos = HEADER_SIZE;
  let index = 0;
  for (let start = 0; ; start += chunkSize) {
    const end = Math.min(start + chunkSize, data.length);
    const final = end - start < chunkSize;
    const ciphertext = cipher.update(data.subarray(start, end));
    out.set(ciphertext, pos);
    pos += ciphertext.length;
    out.set(tagger.tag(index++, final, [ciphertext]), pos);
    pos += TAG_SIZE;
    if (final) break;
  }
  return out;
}

export function openBytes(vaultKey: Uint8Array, sealed: Uint8Array): Buffer {
  assertKey(vaultKey, 'vault key');
  assertBytes(sealed, 'sealed');
  checkHeaderPrefix(sealed.subarray(0, HEADER_SIZE));
  if (sealed.length < HEADER_SIZE) throw new BadHeaderError('input ends inside the header');
  const keys = readFileKeys(vaultKey, sealed);
  const recordSize = keys.chunkSize + TAG_SIZE;
  const body = sealed.length - HEADER_SIZE;
  const records = Math.floor(body / recordSize) + 1;
  if (body - (records - 1) * recordSize < TAG_SIZE) {
    throw new IntegrityError('sealed data is truncated');
  }
  const tagger = new ChunkTagger(keys);
  const decipher = createDecipheriv('aes-256-ctr', keys.encKey, keys.iv);
  // Verify everything first: nothing is decrypted unless every chunk checks out.
  for (let i = 0, pos = HEADER_SIZE; i < records; i++, pos += recordSize) {
    const end = Math.min(pos + recordSize, sealed.length);
    const ciphertext = sealed.subarray(pos, end - TAG_SIZE);
    const expected = tagger.tag(i, i === records - 1, [ciphertext]);
    if (!timingSafeEqual(expected, sealed.subarray(end - TAG_SIZE, end))) {
      throw new IntegrityError(`chunk ${i} failed verification`);
    }
  }
  const out = Buffer.allocUnsafe(body - records * TAG_SIZE);
  for (let i = 0, pos = HEADER_SIZE, at = 0; i < records; i++, pos += recordSize) {
    const end = Math.min(pos + recordSize, sealed.length) - TAG_SIZE;
    const plain = decipher.update(sealed.subarray(pos, end));
    out.set(plain, at);
    at += plain.length;
  }
  return out;
}
