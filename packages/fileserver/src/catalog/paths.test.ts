import { describe, expect, it } from 'vitest';
import { folderPrefix, keyForPath, pathSegments, pathUnder } from './paths.js';

const invalidPath = expect.objectContaining({ code: 'ERR_INVALID_PATH' });

describe('keys as paths', () => {
  it('splits clean relative paths', () => {
    expect(pathSegments('a')).toEqual(['a']);
    expect(pathSegments('photos/2024/cat.jpg')).toEqual(['photos', '2024', 'cat.jpg']);
    expect(pathSegments('a/..b/c.')).toEqual(['a', '..b', 'c.']);
    expect(pathSegments('dir/with space/ünïcode')).toEqual(['dir', 'with space', 'ünïcode']);
  });

  it("refuses '..', '.', empty segments, absolute paths and NUL with ERR_INVALID_PATH", () => {
    for (const key of [
      '../etc/passwd',
      'a/../b',
      'a/..',
      '..',
      './a',
      'a/./b',
      'a//b',
      'a/',
      '/a',
      '/',
      'a\0b',
    ]) {
      expect(() => pathSegments(key), key).toThrow(invalidPath);
    }
    expect(() => pathSegments('')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_KEY' }));
  });

  it('normalises folder prefixes to one trailing slash', () => {
    expect(folderPrefix('')).toBe('');
    expect(folderPrefix('/')).toBe('');
    expect(folderPrefix('photos')).toBe('photos/');
    expect(folderPrefix('photos/')).toBe('photos/');
    for (const p of ['photos//', '../x', 'a/../b/', '/abs/'])
      expect(() => folderPrefix(p), p).toThrow(invalidPath);
  });

  it('maps local files to keys and keys back to local paths', () => {
    expect(keyForPath('backup', ['docs', 'a.txt'])).toBe('backup/docs/a.txt');
    expect(keyForPath('', ['a.txt'])).toBe('a.txt');
    expect(() => keyForPath('backup', ['..', 'x'])).toThrow(invalidPath);
    expect(pathUnder('backup/', 'backup/docs/a.txt')).toEqual(['docs', 'a.txt']);
    expect(pathUnder('', 'a/b')).toEqual(['a', 'b']);
    expect(() => pathUnder('backup', 'backupx/a')).toThrow(invalidPath);
    expect(() => pathUnder('backup', 'backup/../../etc/passwd')).toThrow(invalidPath);
    expect(() => pathUnder('backup', 'backup//a')).toThrow(invalidPath);
  });
});
