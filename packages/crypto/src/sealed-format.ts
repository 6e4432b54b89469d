// The PSB1 sealed blob layout: header fields, per-file key derivation and the per-chunk
// tag. Shared by the streaming seal/open transforms and the in-memory sealBytes/openBytes.
import { createHmac, randomBytes } from 'node:crypto';
import { BadHeaderError, InvalidArgumentError, UnsupportedVersionError } from './errors.js';
import { assertKey, hkdf32 } from './keys.js';

export const MAGIC = Buffer.from('PSB1', 'latin1');
export const VERSION = 0x01;
export const SALT_SIZE = 32;
export const IV_SIZE = 16;
export const TAG_SIZE = 32;
/** magic (4) | version (1) | log2(chunk size) (1) | salt (32) | IV (16) */
export const HEADER_SIZE = 4 + 1 + 1 + SALT_SIZE + IV_SIZE;
export const DEFAULT_CHUNK_SIZE = 65536;
// The opener holds one chunk, so the header may not ask it to hold more than 16 MiB.
export const MIN_CHUNK_LOG2 = 6;
export const MAX_CHUNK_LOG2 = 24;
/** header | u64be chunk index | u8 final — the bytes each tag covers before the ciphertext. */
const TAG_PREFIX_SIZE = HEADER_SIZE + 8 + 1;

export interface FileKeys {
  header: Buffer;
  chunkSize: number;
  encKey: Buffer;
  macKey: Buffer;
  iv: Buffer;
}

export function chunkLog2(chunkSize: number): number {
  const log2 = Math.log2(chunkSize);
  if (!Number.isInteger(log2) || log2 < MIN_CHUNK_LOG2 || log2 > MAX_CHUNK_LOG2) {
    throw new InvalidArgumentError(
      `chunk size must be a power of two from ${2 ** MIN_CHUNK_LOG2} to ${2 ** MAX_CHUNK_LOG2}`,
    );
  }
  return log2;
}

function deriveFileKeys(vaultKey: Uint8Array, header: Buffer): FileKeys {
  const salt = header.subarray(6, 6 + SALT_SIZE);
  return {
    header,
    chunkSize: 2 ** (header[5] as number),
    encKey: hkdf32(vaultKey, 'peerstash/v1/enc', salt),
    macKey: hkdf32(vaultKey, 'peerstash/v1/mac', salt),
    iv: Buffer.from(header.subarray(6 + SALT_SIZE, HEADER_SIZE)),
  };
}

/** A fresh header (random salt and IV) and the keys it implies. */
export function newFileKeys(vaultKey: Uint8Array, chunkSize = DEFAULT_CHUNK_SIZE): FileKeys {
  assertKey(vaultKey, 'vault key');
  const log2 = chunkLog2(chunkSize);
  const header = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(header, 0);
  header[4] = VERSION;
  header[5] = log2;
  randomBytes(SALT_SIZE + IV_SIZE).copy(header, 6);
  return deriveFileKeys(vaultKey, header);
}

/**
 * Checks as much of a header as `bytes` holds, so junk is rejected on its first bytes
 * rather than after the whole header arrives.
 */
export function checkHeaderPrefix(bytes: Uint8Array): void {
  const n = Math.min(bytes.length, 4);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== MAGIC[i]) throw new BadHeaderError('missing PSB1 magic');
  }
  if (bytes.length > 4 && bytes[4] !== VERSION) {
    throw new UnsupportedVersionError(bytes[4] as number);
  }
  if (bytes.length > 5) {
    const log2 = bytes[5] as number;
    if (log2 < MIN_CHUNK_LOG2 || log2 > MAX_CHUNK_LOG2) {
      throw new BadHeaderError(`chunk size 2^${log2} out of range`);
    }
  }
}

/** Parses a complete header (HEADER_SIZE bytes) and derives the file keys. */
export function readFileKeys(vaultKey: Uint8Array, header: Uint8Array): FileKeys {
  assertKey(vaultKey, 'vault key');
  if (header.length < HEADER_SIZE) throw new BadHeaderError('header cut short');
  checkHeaderPrefix(header);
  return deriveFileKeys(vaultKey, Buffer.from(header.subarray(0, HEADER_SIZE)));
}

/** Computes chunk tags; reuses one prefix buffer (Hmac.update copies synchronously). */
export class ChunkTagger {
  private readonly prefix: Buffer;
  private readonly macKey: Buffer;

  constructor(keys: FileKeys) {
    this.macKey = keys.macKey;
    this.prefix = Buffer.alloc(TAG_PREFIX_SIZE);
    keys.header.copy(this.prefix, 0);
  }

  /** Tag over header | u64be index | u8 final | the ciphertext pieces, in order. */
  tag(index: number, final: boolean, pieces: readonly Uint8Array[]): Buffer {
    this.prefix.writeUInt32BE(Math.floor(index / 2 ** 32), HEADER_SIZE);
    this.prefix.writeUInt32BE(index >>> 0, HEADER_SIZE + 4);
    this.prefix[HEADER_SIZE + 8] = final ? 1 : 0;
    const hmac = createHmac('sha256', this.macKey).update(this.prefix);
    for (const piece of pieces) hmac.update(piece);
    return hmac.digest();
  }
}

/** Exact sealed length of `plainSize` bytes: the last chunk is always short (maybe empty). */
export function sealedSize(plainSize: number, chunkSize = DEFAULT_CHUNK_SIZE): number {
  if (!Number.isSafeInteger(plainSize) || plainSize < 0) {
    throw new InvalidArgumentError('plain size must be a non-negative integer');
  }
  chunkLog2(chunkSize);
  const fullChunks = Math.floor(plainSize / chunkSize);
  return HEADER_SIZE + plainSize + (fullChunks + 1) * TAG_SIZE;
}
