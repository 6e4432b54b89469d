import { describe, expect, it } from 'vitest';
import { blobFileName, decodeMeta, encodeMeta, type MetaRecord, publicMeta } from './meta.js';

const filename = 'ab'.repeat(32);
const good: MetaRecord = {
  v: 1,
  namespace: 'f'.repeat(64),
  key: '../../etc/passwd',
  size: 3,
  digest: '0'.repeat(64),
  createdAt: 1,
  extra: { name: 'x' },
  blob: blobFileName(filename, '0123456789abcdef'),
};

describe('meta records', () => {
  it('round-trips and hides the blob file name from callers', () => {
    const back = decodeMeta(encodeMeta(good), filename);
    expect(back).toEqual(good);
    expect(publicMeta(good)).toEqual({
      namespace: good.namespace,
      key: good.key,
      size: 3,
      digest: good.digest,
      createdAt: 1,
      extra: { name: 'x' },
    });
  });

  it('treats anything malformed as absent', () => {
    const bad: unknown[] = [
      'not json',
      null,
      { ...good, v: 2 },
      { ...good, size: -1 },
      { ...good, size: 1.5 },
      { ...good, digest: 'xyz' },
      { ...good, key: 5 },
      { ...good, extra: null },
      { ...good, blob: '../../outside.blob' },
      { ...good, blob: blobFileName('cd'.repeat(32), '0123456789abcdef') },
    ];
    for (const b of bad) {
      const text = typeof b === 'string' ? b : JSON.stringify(b);
      expect(decodeMeta(text, filename)).toBeUndefined();
    }
  });
});
