import { sealedSize } from '@peerstash/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFileKey, MAX_KEY_BYTES, plainSizeOf } from './file-key.js';

describe('file keys', () => {
  it('accepts any well-formed string, path-like or not', () => {
    for (const k of [
      'a',
      '../../etc/passwd',
      'ünï/cödé 🎉',
      'x'.repeat(MAX_KEY_BYTES),
      'a\nb',
      '%2F',
    ]) {
      expect(() => checkFileKey(k)).not.toThrow();
    }
  });

  it('refuses empty, oversized, non-string and lone-surrogate keys with ERR_INVALID_KEY', () => {
    for (const k of [
      '',
      'x'.repeat(MAX_KEY_BYTES + 1),
      'é'.repeat(MAX_KEY_BYTES / 2 + 1),
      '\ud800',
      42,
      null,
    ]) {
      expect(() => checkFileKey(k)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_KEY' }));
    }
  });
});

describe('plainSizeOf', () => {
  it('inverts sealedSize for every size and chunk size', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 10_000_000 }),
        fc.constantFrom(1024, 4096, 65536, 1 << 20),
        (plain, cs) => {
          expect(plainSizeOf(sealedSize(plain, cs), cs)).toBe(plain);
        },
      ),
    );
  });

  it('says undefined for sizes no sealed blob can have', () => {
    expect(plainSizeOf(0, 65536)).toBeUndefined();
    expect(plainSizeOf(10, 65536)).toBeUndefined();
  });
});
