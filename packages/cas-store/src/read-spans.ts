// Ranged reads of a stored blob: the bytes of a few spans, in order, from one open file handle,
// so a reader of a large sealed blob touches only the records it needs.

import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { IntegrityError, InvalidArgumentError } from './errors.js';

/** `length` bytes of a blob from `offset`. */
export interface Span {
  offset: number;
  length: number;
}

/** Throws InvalidArgumentError unless every span lies inside a blob of `size` bytes. */
export function checkSpans(spans: readonly Span[], size: number): void {
  if (!Array.isArray(spans)) throw new InvalidArgumentError('spans must be an array');
  for (const s of spans) {
    const ok =
      Number.isSafeInteger(s?.offset) &&
      Number.isSafeInteger(s?.length) &&
      s.offset >= 0 &&
      s.length >= 0 &&
      s.offset + s.length <= size;
    if (!ok) throw new InvalidArgumentError(`span outside the ${size}-byte blob`);
  }
}

async function* spanBytes(
  fh: FileHandle,
  spans: readonly Span[],
  chunk: number,
): AsyncGenerator<Buffer> {
  try {
    for (const s of spans) {
      const end = s.offset + s.length;
      for (let at = s.offset; at < end; ) {
        const n = Math.min(chunk, end - at);
        const buf = Buffer.allocUnsafe(n);
        const { bytesRead } = await fh.read(buf, 0, n, at);
        // the size was checked at open: a blob shorter now was cut behind the store's back
        if (bytesRead === 0) throw new IntegrityError('blob ended before a span it was read for');
        yield bytesRead === n ? buf : buf.subarray(0, bytesRead);
        at += bytesRead;
      }
    }
  } finally {
    await fh.close().catch(() => {});
  }
}

/** A Readable of the spans' bytes; it owns `fh` and closes it at its end or when destroyed. */
export function readSpans(fh: FileHandle, spans: readonly Span[], chunk: number): Readable {
  return Readable.from(spanBytes(fh, spans, chunk), { objectMode: false, highWaterMark: chunk });
}
