import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { casPathTransform, createPathTransform } from './path-transform.js';

describe('casPathTransform', () => {
  it('cuts the original design example like CASPathTransformFunc (md5, blocks of 5)', () => {
    const pk = casPathTransform('momsbestpicture', {
      algorithm: 'md5',
      blockSize: 5,
      depth: Number.POSITIVE_INFINITY,
    });
    expect(pk.filename).toBe('004904b0c1fa857fd763bee98be47fac');
    expect(pk.pathName).toBe('00490/4b0c1/fa857/fd763/bee98/be47f');
  });

  it('defaults to sha256 with two folder levels of two characters', () => {
    const pk = casPathTransform('momsbestpicture');
    expect(pk.filename).toBe('b159a9f0a78305c07dbce386598952bfa30b6aabb46a98b072c9195348abf9ea');
    expect(pk.pathName).toBe('b1/59');
  });

  it('depth 0 gives a flat layout', () => {
    expect(casPathTransform('x', { depth: 0 }).pathName).toBe('');
  });

  it('every key maps to safe hex folders that rebuild the hash prefix', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1 }),
        fc.constantFrom<'sha256' | 'md5'>('sha256', 'md5'),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 40 }),
        (key, algorithm, blockSize, depth) => {
          const pk = casPathTransform(key, { algorithm, blockSize, depth });
          expect(pk.filename).toBe(createHash(algorithm).update(key, 'utf8').digest('hex'));
          const parts = pk.pathName === '' ? [] : pk.pathName.split('/');
          expect(parts.length).toBeLessThanOrEqual(depth);
          for (const p of parts) expect(p).toMatch(new RegExp(`^[0-9a-f]{${blockSize}}$`));
          expect(pk.filename.startsWith(parts.join(''))).toBe(true);
        },
      ),
    );
  });

  it('rejects bad options with ERR_INVALID_ARGUMENT', () => {
    const bad = [
      { blockSize: 0 },
      { blockSize: 1.5 },
      { blockSize: 65 },
      { depth: -1 },
      { depth: Number.NaN },
      { algorithm: 'sha1' as 'md5' },
    ];
    for (const opts of bad) {
      expect(() => casPathTransform('k', opts)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
      expect(() => createPathTransform(opts)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});
