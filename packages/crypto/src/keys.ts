// Key material and one-way identifiers: random keys and ids, key hashing for storage
// paths, and HKDF-derived names (namespace, file id) that never reveal the vault key.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { InvalidArgumentError, KeySizeError } from './errors.js';

export const KEY_SIZE = 32;

const EMPTY = Buffer.alloc(0);

/** Throws KeySizeError unless `key` is a 32-byte Uint8Array. */
export function assertKey(key: unknown, what = 'key'): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== KEY_SIZE) {
    const got = key instanceof Uint8Array ? `${key.length} bytes` : typeof key;
    throw new KeySizeError(`${what} must be ${KEY_SIZE} bytes, got ${got}`);
  }
}

const ZERO_SALT = Buffer.alloc(32);
const ONE = Buffer.of(1);

/**
 * HKDF-SHA256 with an empty salt unless one is given; 32 bytes out. RFC 5869 written out for
 * one output block (extract, then a single expand step), as two HMACs: Node's hkdfSync builds
 * key objects on every call and costs ~8× more, which every small seal and open (names, catalog
 * records) would pay three times. Checked against hkdfSync in the tests.
 */
export function hkdf32(ikm: Uint8Array, info: string, salt: Uint8Array = EMPTY): Buffer {
  const prk = createHmac('sha256', salt.length === 0 ? ZERO_SALT : salt)
    .update(ikm)
    .digest();
  return createHmac('sha256', prk).update(info, 'utf8').update(ONE).digest();
}

export function newEncryptionKey(): Buffer {
  return randomBytes(KEY_SIZE);
}

export function generateId(): string {
  return randomBytes(32).toString('hex');
}

export type HashAlgorithm = 'sha256' | 'md5';

export function hashKey(key: string, algorithm: HashAlgorithm = 'sha256'): string {
  if (typeof key !== 'string') throw new InvalidArgumentError('key must be a string');
  // md5 only for the original CAS path layout; never used for anything secret.
  if (algorithm !== 'sha256' && algorithm !== 'md5') {
    throw new InvalidArgumentError(`unsupported hash algorithm ${String(algorithm)}`);
  }
  return createHash(algorithm).update(key, 'utf8').digest('hex');
}

export function deriveNamespace(vaultKey: Uint8Array): string {
  assertKey(vaultKey, 'vault key');
  return hkdf32(vaultKey, 'peerstash/v1/namespace').toString('hex');
}

export function deriveFileId(vaultKey: Uint8Array, key: string): string {
  assertKey(vaultKey, 'vault key');
  if (typeof key !== 'string') throw new InvalidArgumentError('key must be a string');
  const idKey = hkdf32(vaultKey, 'peerstash/v1/file-id');
  return createHmac('sha256', idKey).update(key, 'utf8').digest('hex');
}
