// Where a plaintext byte range lives inside a PSB1 blob: which chunks cover it and the sealed
// bytes they occupy, so a reader fetches (or asks a peer for) only the header and those records.
import { InvalidArgumentError, RangeNotSatisfiableError } from './errors.js';
import {
  chunkLog2,
  DEFAULT_CHUNK_SIZE,
  HEADER_SIZE,
  sealedSize,
  TAG_SIZE,
} from './sealed-format.js';

/** A span of sealed bytes: `length` bytes from `offset`. */
export interface SealedSpan {
  offset: number;
  length: number;
}

/** A resolved range: the plaintext bytes served and the records that must be read for them. */
export interface RangePlan {
  /** First plaintext byte served. */
  start: number;
  /** Last plaintext byte served (inclusive): the asked end, clamped to the last byte of the file. */
  end: number;
  /** Plaintext bytes served: end − start + 1. */
  length: number;
  plainSize: number;
  chunkSize: number;
  /** Index of the first and last record read. */
  firstChunk: number;
  lastChunk: number;
  /** Index of the blob's final record (final flag 1; it may be empty). */
  finalChunk: number;
  /** Every record's tag covers the header, so it is always read: bytes [0, 54). */
  header: SealedSpan;
  /** The records firstChunk..lastChunk, ciphertext and tags, contiguous in the blob. */
  body: SealedSpan;
}

function checkSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new InvalidArgumentError(`${what} must be a non-negative integer`);
  }
}

/**
 * Plans the read of plaintext bytes [start, end] (inclusive, as in an HTTP Range) of a file of
 * `plainSize` bytes sealed with `chunkSize`. An end past the file is clamped to its last byte,
 * as HTTP does; a start at or past the end is RangeNotSatisfiableError (ERR_RANGE_NOT_SATISFIABLE),
 * and start > end or a negative or fractional bound is InvalidArgumentError.
 */
export function sealedRange(
  range: { start: number; end: number },
  plainSize: number,
  chunkSize = DEFAULT_CHUNK_SIZE,
): RangePlan {
  const { start } = range;
  checkSize(start, 'range start');
  checkSize(range.end, 'range end');
  checkSize(plainSize, 'plain size');
  chunkLog2(chunkSize);
  if (range.end < start) throw new InvalidArgumentError('range end is before its start');
  if (start >= plainSize) {
    throw new RangeNotSatisfiableError(
      plainSize,
      `range starts at byte ${start} of a ${plainSize}-byte file`,
    );
  }
  const end = Math.min(range.end, plainSize - 1);
  const firstChunk = Math.floor(start / chunkSize);
  const lastChunk = Math.floor(end / chunkSize);
  const finalChunk = Math.floor(plainSize / chunkSize);
  const record = chunkSize + TAG_SIZE;
  const offset = HEADER_SIZE + firstChunk * record;
  // the last record read is full unless it is the final one, which holds the remainder
  const lastLength = lastChunk === finalChunk ? plainSize - finalChunk * chunkSize : chunkSize;
  const bodyEnd = HEADER_SIZE + lastChunk * record + lastLength + TAG_SIZE;
  return {
    start,
    end,
    length: end - start + 1,
    plainSize,
    chunkSize,
    firstChunk,
    lastChunk,
    finalChunk,
    header: { offset: 0, length: HEADER_SIZE },
    body: { offset, length: bodyEnd - offset },
  };
}

/**
 * The plaintext size of a sealed blob of `sealed` bytes and chunk size `chunkSize` (the inverse
 * of sealedSize), or undefined when no plaintext seals to exactly that many bytes.
 */
export function plainSizeOf(sealed: number, chunkSize = DEFAULT_CHUNK_SIZE): number | undefined {
  checkSize(sealed, 'sealed size');
  chunkLog2(chunkSize);
  // every record but the last is full, and the last (final) one may be empty
  const body = sealed - HEADER_SIZE;
  if (body < TAG_SIZE) return undefined;
  const fullChunks = Math.floor((body - TAG_SIZE) / (chunkSize + TAG_SIZE));
  const plain = body - (fullChunks + 1) * TAG_SIZE;
  return plain >= 0 && sealedSize(plain, chunkSize) === sealed ? plain : undefined;
}

/** The AES-CTR counter block `blocks` 16-byte blocks after `iv` (128-bit big-endian, wrapping). */
export function counterAt(iv: Uint8Array, blocks: number): Buffer {
  if (blocks === 0) return Buffer.from(iv);
  const sum = (BigInt(`0x${Buffer.from(iv).toString('hex')}`) + BigInt(blocks)) % (1n << 128n);
  return Buffer.from(sum.toString(16).padStart(32, '0'), 'hex');
}
