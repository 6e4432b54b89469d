import { describe, expect, it } from 'vitest';
import {
  isValidBucketName,
  parseUploadRecord,
  partKey,
  uploadRecord,
  uploadRecordPrefix,
} from './layout.js';

describe('layout', () => {
  it('validates bucket names as S3 does', () => {
    for (const ok of ['abc', 'my-bucket.2', 'a'.repeat(63)])
      expect(isValidBucketName(ok)).toBe(true);
    for (const bad of [
      'ab',
      'A-b',
      '.s3',
      'a..b',
      '-ab',
      'ab-',
      '192.168.1.1',
      'a'.repeat(64),
      'a_b',
    ]) {
      expect(isValidBucketName(bad)).toBe(false);
    }
  });

  it('keys upload records so key order and key prefixes are plain prefix listings', () => {
    const keys = ['a', 'a/b', 'a0', 'b', 'é', ''];
    const records = keys.map((k) => uploadRecord('bkt', k, 'u1'));
    const byRecord = [...records].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    const byKey = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(byRecord.map((r) => parseUploadRecord('bkt', r)!.key)).toEqual(byKey);
    for (const k of keys) {
      expect(uploadRecord('bkt', k, 'u1').startsWith(uploadRecordPrefix('bkt', 'a'))).toBe(
        k.startsWith('a'),
      );
    }
    expect(parseUploadRecord('bkt', uploadRecord('bkt', 'x/y z', 'abc'))).toEqual({
      key: 'x/y z',
      uploadId: 'abc',
    });
    expect(partKey('u', 7)).toBe('.s3/parts/u/00007');
    expect(partKey('u', 10000) > partKey('u', 9999)).toBe(true);
  });
});
