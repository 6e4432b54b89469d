// HTTP byte ranges (RFC 9110 §14): one `Range: bytes=…` spec parsed, resolved against a file's
// size, and the conditional headers (ETag, If-None-Match, If-Range) that go with them.

import { RangeNotSatisfiableError } from '@peerstash/crypto';

/** One range as asked: `a-b`, `a-` (to the end) or `-n` (the last n bytes). */
export type RangeSpec = { start: number; end?: number } | { suffix: number };

/** An inclusive byte range inside a file (start ≤ end < size). */
export interface ByteRange {
  start: number;
  end: number;
}

const SPEC = /^bytes=(\d*)-(\d*)$/;

/**
 * The single range `header` asks for; undefined when there is none or the server may ignore it
 * and answer 200 (another unit, several ranges, a malformed or reversed one), as RFC 9110 allows.
 */
export function parseRange(header: string | undefined): RangeSpec | undefined {
  if (header === undefined) return undefined;
  const m = SPEC.exec(header.trim().replace(/\s+/g, ''));
  if (!m) return undefined;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return undefined;
  if (a.length > 15 || b.length > 15) return undefined;
  if (a === '') return { suffix: Number(b) };
  const start = Number(a);
  if (b === '') return { start };
  const end = Number(b);
  return end < start ? undefined : { start, end };
}

/**
 * The bytes of a `size`-byte file a spec covers (an end past the file is clamped, a suffix
 * longer than it is all of it); RangeNotSatisfiableError (ERR_RANGE_NOT_SATISFIABLE, 416) when
 * no byte of it exists: a start at or past the end, an empty suffix, any range of an empty file.
 */
export function resolveRange(spec: RangeSpec, size: number): ByteRange {
  if ('suffix' in spec) {
    if (spec.suffix === 0 || size === 0) {
      throw new RangeNotSatisfiableError(size, `no last ${spec.suffix} bytes of ${size}`);
    }
    return { start: Math.max(0, size - spec.suffix), end: size - 1 };
  }
  if (spec.start >= size) {
    throw new RangeNotSatisfiableError(size, `range starts at byte ${spec.start} of ${size}`);
  }
  return { start: spec.start, end: Math.min(spec.end ?? size - 1, size - 1) };
}

/** The ETag of a version: its sealed digest, quoted (a strong validator). */
export function etagOf(version: string): string {
  return `"${version}"`;
}

/** Whether an If-None-Match (or If-Range) value names `version` (`*` matches any). */
export function matchesEtag(header: string | undefined, version: string): boolean {
  if (header === undefined) return false;
  const tag = etagOf(version);
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === '*' || t === tag);
}
