import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { emptyFinalRecord } from './final-record.js';
import { sealBytes } from './seal-bytes.js';
import { HEADER_SIZE, TAG_SIZE } from './sealed-format.js';

describe('emptyFinalRecord', () => {
  it('is the tag a seal writes after the last full chunk', () => {
    const key = randomBytes(32);
    for (const size of [0, 64, 3 * 64]) {
      const sealed = sealBytes(key, randomBytes(size), { chunkSize: 64 });
      const header = sealed.subarray(0, HEADER_SIZE);
      expect(emptyFinalRecord(key, header, size).equals(sealed.subarray(-TAG_SIZE))).toBe(true);
    }
  });

  it('refuses a size that does not end on a chunk, or another key', () => {
    const key = randomBytes(32);
    const sealed = sealBytes(key, randomBytes(128), { chunkSize: 64 });
    const header = sealed.subarray(0, HEADER_SIZE);
    expect(() => emptyFinalRecord(key, header, 100)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    const other = emptyFinalRecord(randomBytes(32), header, 128);
    expect(other.equals(sealed.subarray(-TAG_SIZE))).toBe(false);
  });
});
