// Parses an HTTP Range header (RFC 9110 §14) against an object's size, for restic and S3 GETs.
// Only single ranges are served; a list of several is reported so the caller can refuse it.

import type { ByteRange } from '../backend.js';

export type RangeResult =
  | { kind: 'none' }
  | { kind: 'range'; range: ByteRange }
  | { kind: 'unsatisfiable' }
  | { kind: 'multiple' };

const SPEC = /^bytes=(\d*)-(\d*)$/;

/**
 * `undefined` header → none. A header that is not a bytes range at all is ignored (RFC: serve the
 * whole object). `bytes=a-b`, `bytes=a-` and `bytes=-n` resolve against `size`.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'none' };
  const value = header.trim().replace(/\s+/g, '');
  if (value.startsWith('bytes=') && value.includes(',')) return { kind: 'multiple' };
  const m = SPEC.exec(value);
  if (!m) return { kind: 'none' };
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return { kind: 'none' };
  if (a === '') {
    const n = Number(b);
    if (n === 0) return { kind: 'unsatisfiable' };
    if (size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', range: { start: Math.max(0, size - n), end: size - 1 } };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (b !== '' && Number(b) < start) return { kind: 'none' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', range: { start, end } };
}

export function contentRange({ start, end }: ByteRange, size: number): string {
  return `bytes ${start}-${end}/${size}`;
}
