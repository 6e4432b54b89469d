import { createHash, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveFileId, deriveNamespace, generateId, hashKey, newEncryptionKey } from './index.js';
import { hkdf32 } from './keys.js';

describe('keys and ids', () => {
  it('newEncryptionKey returns 32 fresh random bytes', () => {
    const a = newEncryptionKey();
    const b = newEncryptionKey();
    expect(a).toBeInstanceOf(Buffer);
    expect(a.length).toBe(32);
    expect(a.equals(b)).toBe(false);
  });

  it('generateId returns 64 lowercase hex chars, different each time', () => {
    const a = generateId();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(generateId()).not.toBe(a);
  });

  it('hashKey uses sha256 by default and md5 on request', () => {
    expect(hashKey('momsbestpicture')).toBe(
      createHash('sha256').update('momsbestpicture').digest('hex'),
    );
    // The original design's CASPathTransformFunc hashed keys with MD5.
    expect(hashKey('', 'md5')).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(hashKey('abc', 'md5')).toBe('900150983cd24fb0d6963f7d28e17f72');
  });

  it('hashKey rejects an unknown algorithm with ERR_INVALID_ARGUMENT', () => {
    expect(() => hashKey('x', 'sha1' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('deriveNamespace is deterministic, one-way hex, and key-specific', () => {
    const key = newEncryptionKey();
    const ns = deriveNamespace(key);
    expect(ns).toMatch(/^[0-9a-f]{64}$/);
    expect(deriveNamespace(Buffer.from(key))).toBe(ns);
    expect(ns).not.toBe(key.toString('hex'));
    expect(deriveNamespace(newEncryptionKey())).not.toBe(ns);
  });

  it('deriveFileId depends on both the vault key and the file key', () => {
    const key = newEncryptionKey();
    const id = deriveFileId(key, 'photos/cat.jpg');
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(deriveFileId(key, 'photos/cat.jpg')).toBe(id);
    expect(deriveFileId(key, 'photos/dog.jpg')).not.toBe(id);
    expect(deriveFileId(newEncryptionKey(), 'photos/cat.jpg')).not.toBe(id);
    expect(id).not.toBe(deriveNamespace(key));
  });

  it('rejects vault keys of the wrong size with ERR_KEY_SIZE', () => {
    for (const bad of [Buffer.alloc(0), Buffer.alloc(16), Buffer.alloc(33)]) {
      expect(() => deriveNamespace(bad)).toThrow(expect.objectContaining({ code: 'ERR_KEY_SIZE' }));
      expect(() => deriveFileId(bad, 'k')).toThrow(
        expect.objectContaining({ code: 'ERR_KEY_SIZE' }),
      );
    }
  });
});

describe('hkdf32', () => {
  it('is HKDF-SHA256: RFC 5869 test case 3, and hkdfSync for any salt and info (property)', () => {
    const okm = hkdf32(Buffer.alloc(22, 0x0b), '');
    expect(okm.toString('hex')).toBe(
      '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d',
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 80 }),
        fc.uint8Array({ maxLength: 80 }),
        fc.string(),
        (ikm, salt, info) => {
          const want = Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
          expect(hkdf32(ikm, info, salt).equals(want)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
