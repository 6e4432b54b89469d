import { describe, expect, it } from 'vitest';
import {
  ellipsize,
  formatBytes,
  formatDuration,
  formatTable,
  parseBytes,
  printable,
} from './format.js';

describe('format', () => {
  it('ellipsize keeps short text and cuts long text in the middle to the width', () => {
    expect(ellipsize('report.pdf', 10)).toBe('report.pdf');
    expect(ellipsize('reports/2026/q4/final.pdf', 12)).toBe('report…l.pdf');
    expect([...ellipsize('é'.repeat(50), 9)]).toHaveLength(9);
    expect(ellipsize('abc', 1)).toBe('…');
  });

  it('formats bytes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.00 KiB');
    expect(formatBytes(8 * 1024 * 1024)).toBe('8.00 MiB');
    expect(formatBytes(300 * 1024 ** 3)).toBe('300.0 GiB');
  });

  it('parses sizes', () => {
    expect(parseBytes('512')).toBe(512);
    expect(parseBytes('64k')).toBe(65536);
    expect(parseBytes('8MiB')).toBe(8 * 1024 * 1024);
    expect(parseBytes('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(parseBytes('lots')).toBeUndefined();
  });

  it('formats durations', () => {
    expect(formatDuration(12.3)).toBe('12 ms');
    expect(formatDuration(4200)).toBe('4.2 s');
    expect(formatDuration(125_000)).toBe('2 min');
    expect(formatDuration(5.5 * 3_600_000)).toBe('5.5 h');
    expect(formatDuration(8 * 86_400_000)).toBe('8.0 days');
  });

  it('aligns table columns', () => {
    const t = formatTable(
      ['KEY', 'SIZE'],
      [
        ['a', '1 B'],
        ['long-key', '10.00 KiB'],
      ],
      new Set([1]),
    );
    expect(t.split('\n')).toEqual([
      'KEY            SIZE',
      'a               1 B',
      'long-key  10.00 KiB',
    ]);
  });

  it('spells out control characters in keys shown to people', () => {
    expect(printable('a\u001b[2Jb\nc')).toBe('a\\x1b[2Jb\\x0ac');
    expect(printable('photos/2026/été.jpg')).toBe('photos/2026/été.jpg');
  });
});
