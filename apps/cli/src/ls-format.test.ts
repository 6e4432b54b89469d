import { describe, expect, it } from 'vitest';
import { formatEntry, jsonEntry, LONG_HEADER, mergePage } from './ls-format.js';

const file = (key: string, size = 1) => ({
  key,
  size,
  version: 'v'.repeat(64),
  modified: Date.UTC(2026, 0, 2, 3, 4),
  copies: 3,
});

describe('mergePage', () => {
  it('interleaves files and folders in UTF-8 byte order', () => {
    const page = { files: [file('a-b'), file('a0'), file('é')], prefixes: ['a/', 'b/'] };
    expect(mergePage(page).map((e) => ('folder' in e ? e.folder : e.file.key))).toEqual([
      'a-b',
      'a/',
      'a0',
      'b/',
      'é',
    ]);
  });
});

describe('formatEntry', () => {
  it('short: the name; long: fixed columns under the header, folders without figures', () => {
    expect(formatEntry({ file: file('x/y') }, 'y', false)).toBe('y');
    const long = formatEntry({ file: file('x/y', 3 * 1024 * 1024) }, 'y', true);
    expect(long).toMatch(/^\s+3\.00 MiB {2}2026-01-0\d \d\d:\d\d {2}\s+3 {2}y$/);
    expect(long.indexOf('y')).toBe(LONG_HEADER.indexOf('NAME'));
    const folder = formatEntry({ folder: 'x/z/' }, 'z/', true);
    expect(folder.indexOf('z/')).toBe(LONG_HEADER.indexOf('NAME'));
    // a control character in a key never reaches the terminal
    expect(formatEntry({ file: file('\u001b[2J') }, '\u001b[2J', false)).toBe('\\x1b[2J');
  });

  it('JSON: a file as the node gives it, a folder as { key, folder }', () => {
    expect(jsonEntry({ folder: 'a/' })).toEqual({ key: 'a/', folder: true });
    expect(jsonEntry({ file: file('k') })).toEqual(file('k'));
  });
});
