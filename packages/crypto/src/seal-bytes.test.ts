import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  HEADER_SIZE,
  newEncryptionKey,
  openBytes,
  sealBytes,
  sealedSize,
  TAG_SIZE,
} from './index.js';

describe('sealBytes / openBytes', () => {
  it('round-trips small values, including empty and chunk-sized ones', () => {
    const key = newEncryptionKey();
    for (const size of [0, 1, 63, 64, 65, 1000]) {
      const plain = randomBytes(size);
      const sealed = sealBytes(key, plain, { chunkSize: 64 });
      expect(sealed.length).toBe(sealedSize(size, 64));
      expect(openBytes(key, sealed).equals(plain)).toBe(true);
    }
    const name = Buffer.from('photos/2026/cat.jpg');
    expect(openBytes(key, sealBytes(key, name)).toString()).toBe('photos/2026/cat.jpg');
  });

  it('accepts a Uint8Array view into a larger buffer', () => {
    const key = newEncryptionKey();
    const backing = randomBytes(300);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 10, 100);
    expect(openBytes(key, sealBytes(key, view)).equals(Buffer.from(view))).toBe(true);
  });

  it('decrypts nothing unless every chunk verifies', () => {
    const key = newEncryptionKey();
    const sealed = sealBytes(key, randomBytes(500), { chunkSize: 64 });
    sealed[sealed.length - 1] = (sealed[sealed.length - 1] as number) ^ 1;
    expect(() => openBytes(key, sealed)).toThrow(
      expect.objectContaining({ code: 'ERR_INTEGRITY' }),
    );
  });

  it('uses typed errors for bad keys, a wrong key and short input', () => {
    const key = newEncryptionKey();
    const sealed = sealBytes(key, Buffer.from('x'));
    expect(() => sealBytes(Buffer.alloc(31), Buffer.alloc(1))).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_SIZE' }),
    );
    expect(() => openBytes(Buffer.alloc(33), sealed)).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_SIZE' }),
    );
    expect(() => openBytes(newEncryptionKey(), sealed)).toThrow(
      expect.objectContaining({ code: 'ERR_INTEGRITY' }),
    );
    expect(() => openBytes(key, sealed.subarray(0, HEADER_SIZE + TAG_SIZE - 1))).toThrow(
      expect.objectContaining({ code: 'ERR_INTEGRITY' }),
    );
    expect(() => openBytes(key, new Uint8Array(0))).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_HEADER' }),
    );
    for (const notBytes of ['text', null, undefined, [1, 2, 3]]) {
      expect(() => sealBytes(key, notBytes as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
      expect(() => openBytes(key, notBytes as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});
