// Ranged reads of a sealed blob kept where bytes can be read at any offset (a local file, a
// peer that serves byte spans): reads the header and the covering records only, then opens them.
import { pipeline, Readable } from 'node:stream';
import { AbortedError } from './errors.js';
import { type OpenRangeOptions, openRange } from './open.js';
import { checkHeaderPrefix, HEADER_SIZE } from './sealed-format.js';
import { sealedRange } from './sealed-range.js';

/** Reads up to `length` sealed bytes at `offset`; fewer (or none) only at the end of the blob. */
export type ReadAt = (offset: number, length: number, signal?: AbortSignal) => Promise<Uint8Array>;

export interface ReadRangeOptions extends OpenRangeOptions {
  signal?: AbortSignal;
  /** Bytes asked of `readAt` per call. Default 256 KiB. */
  readSize?: number;
}

const DEFAULT_READ_SIZE = 256 * 1024;

async function* sealedSpans(
  readAt: ReadAt,
  range: OpenRangeOptions,
  readSize: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  const header = await readAt(0, HEADER_SIZE, signal);
  yield header;
  // a short or foreign header: the opener reports it; there is no chunk size to plan with
  if (header.length < HEADER_SIZE) return;
  checkHeaderPrefix(header);
  const plan = sealedRange(range, range.plainSize, 2 ** (header[5] as number));
  const end = plan.body.offset + plan.body.length;
  for (let at = plan.body.offset; at < end; ) {
    if (signal?.aborted) throw new AbortedError(undefined, { cause: signal.reason });
    const piece = await readAt(at, Math.min(readSize, end - at), signal);
    // the blob ends early: the opener finds the records cut short
    if (piece.length === 0) return;
    yield piece;
    at += piece.length;
  }
}

/**
 * Plaintext bytes [start, end] (inclusive; end clamped to the file) of the sealed blob behind
 * `readAt`, read from the header and the records that cover them only, each verified before any
 * of its bytes is released. Errors arrive on the stream: IntegrityError (a bad or missing record,
 * a size that does not match), BadHeaderError, AbortedError, or whatever `readAt` throws.
 * Throws RangeNotSatisfiableError (ERR_RANGE_NOT_SATISFIABLE) / InvalidArgumentError at once.
 */
export function readRange(
  vaultKey: Uint8Array,
  readAt: ReadAt,
  options: ReadRangeOptions,
): Readable {
  const { signal, readSize = DEFAULT_READ_SIZE } = options;
  const range = { start: options.start, end: options.end, plainSize: options.plainSize };
  const out = openRange(vaultKey, range);
  if (signal?.aborted) {
    out.destroy(new AbortedError(undefined, { cause: signal.reason }));
    return out;
  }
  const source = Readable.from(sealedSpans(readAt, range, readSize, signal), {
    objectMode: false,
  });
  const onAbort = () => out.destroy(new AbortedError(undefined, { cause: signal?.reason }));
  signal?.addEventListener('abort', onAbort, { once: true });
  // pipeline destroys the source when the reader goes away and hands a read error to `out`
  pipeline(source, out, () => signal?.removeEventListener('abort', onAbort));
  return out;
}
