// The streaming opener: PSB1 sealed blob in, plaintext out. Each chunk's tag is checked
// before any of its plaintext is pushed; truncation, reordering and a lost final chunk fail.
import { createDecipheriv, type Decipher, timingSafeEqual } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { BadHeaderError, IntegrityError } from './errors.js';
import { assertKey } from './keys.js';
import {
  ChunkTagger,
  checkHeaderPrefix,
  HEADER_SIZE,
  readFileKeys,
  TAG_SIZE,
} from './sealed-format.js';
import { counterAt, sealedRange } from './sealed-range.js';

interface OpenState {
  tagger: ChunkTagger;
  decipher: Decipher;
  chunkSize: number;
  /** Plaintext bytes [lo, hi) are released; the rest of each verified chunk is dropped. */
  lo: number;
  hi: number;
  /** Index of the last record accepted; past it any input is an error (a range ends there). */
  lastChunk: number;
  /** Whether the last record accepted is the blob's final one (held until the end of input). */
  endsAtFinal: boolean;
  /** For a range: the exact ciphertext length of the final record, when it is read. */
  finalLength: number | undefined;
}

/** A plaintext range to open: input is then the header followed by the records that cover it. */
export interface OpenRangeOptions {
  /** First plaintext byte wanted. */
  start: number;
  /** Last plaintext byte wanted (inclusive); clamped to the last byte of the file. */
  end: number;
  /** The file's plaintext size (from its metadata or catalog record). */
  plainSize: number;
  /**
   * Both steps by default. 'check': verify every record and release nothing (bytes kept sealed
   * for later). 'decrypt': only decrypt, for input that passed a 'check' in this process and was
   * held in memory since (tags are not checked again; the structure still is).
   */
  pass?: 'check' | 'decrypt' | undefined;
}

class OpenTransform extends Transform {
  private readonly vaultKey: Uint8Array;
  private readonly range: OpenRangeOptions | undefined;
  private readonly header = Buffer.alloc(HEADER_SIZE);
  private headerFill = 0;
  private state: OpenState | undefined;
  private index = 0;
  // The record being collected: views of the input chunks (no copy; Node streams already
  // hand buffers on by reference, as PassThrough does) and, once the ciphertext part is
  // complete, the tag. Nothing is decrypted until the whole record has verified.
  private pieces: Buffer[] = [];
  private fill = 0;
  private readonly tag = Buffer.alloc(TAG_SIZE);
  private tagFill = 0;
  // plaintext offset of the next record's first byte
  private plainAt = 0;

  constructor(vaultKey: Uint8Array, range?: OpenRangeOptions) {
    assertKey(vaultKey, 'vault key');
    super();
    this.vaultKey = vaultKey;
    this.range = range;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      let offset = 0;
      if (!this.state) {
        offset = this.readHeader(chunk);
        if (!this.state) {
          callback();
          return;
        }
      }
      const state = this.state as OpenState;
      const { chunkSize } = state;
      while (offset < chunk.length) {
        if (this.index > state.lastChunk) {
          throw new IntegrityError('sealed data goes on past the records of the range');
        }
        const left = chunk.length - offset;
        if (this.fill < chunkSize) {
          const take = Math.min(chunkSize - this.fill, left);
          this.pieces.push(chunk.subarray(offset, offset + take));
          this.fill += take;
          offset += take;
        } else {
          // A full chunk of ciphertext is never the final one, so its tag can be checked
          // as soon as the tag has arrived, without waiting for more input.
          // the final record of a range may spill into the tag buffer only as far as its size says
          if (state.finalLength !== undefined && this.index === state.lastChunk) {
            const room = state.finalLength + TAG_SIZE - chunkSize - this.tagFill;
            if (left > room) {
              throw new IntegrityError('the final record is longer than the file size says');
            }
          }
          const take = Math.min(TAG_SIZE - this.tagFill, left);
          chunk.copy(this.tag, this.tagFill, offset, offset + take);
          this.tagFill += take;
          offset += take;
          if (this.tagFill === TAG_SIZE) {
            this.release(state, this.pieces, this.tag, false);
            this.pieces = [];
            this.fill = 0;
            this.tagFill = 0;
          }
        }
      }
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (!this.state) {
        throw new BadHeaderError(
          this.headerFill === 0 ? 'empty input, no header' : 'input ends inside the header',
        );
      }
      const held = this.fill + this.tagFill;
      if (!this.state.endsAtFinal) {
        // a range that stops before the final record ends right after its last full record
        if (held !== 0 || this.index !== this.state.lastChunk + 1) {
          throw new IntegrityError('sealed data is truncated');
        }
        callback();
        return;
      }
      // Whatever is held at the end must be the short final chunk followed by its tag (it
      // may have spilled into the tag buffer: held is at most chunk size + 31 bytes).
      if (held < TAG_SIZE || (this.range && this.index !== this.state.lastChunk)) {
        throw new IntegrityError('sealed data is truncated');
      }
      const ctEnd = held - TAG_SIZE;
      if (this.state.finalLength !== undefined && ctEnd !== this.state.finalLength) {
        throw new IntegrityError('the final record does not match the file size');
      }
      const last = Buffer.concat([...this.pieces, this.tag.subarray(0, this.tagFill)], held);
      this.release(this.state, [last.subarray(0, ctEnd)], last.subarray(ctEnd), true);
      this.pieces = [];
      this.state.decipher.final();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  private readHeader(chunk: Buffer): number {
    const take = Math.min(HEADER_SIZE - this.headerFill, chunk.length);
    chunk.copy(this.header, this.headerFill, 0, take);
    this.headerFill += take;
    checkHeaderPrefix(this.header.subarray(0, this.headerFill));
    if (this.headerFill === HEADER_SIZE) {
      const keys = readFileKeys(this.vaultKey, this.header);
      const { chunkSize } = keys;
      if (!this.range) {
        this.state = {
          tagger: new ChunkTagger(keys),
          decipher: createDecipheriv('aes-256-ctr', keys.encKey, keys.iv),
          chunkSize,
          lo: 0,
          hi: Number.POSITIVE_INFINITY,
          lastChunk: Number.POSITIVE_INFINITY,
          endsAtFinal: true,
          finalLength: undefined,
        };
        return take;
      }
      // The chunk size comes from the header, so the records to expect are known only now.
      const plan = sealedRange(this.range, this.range.plainSize, chunkSize);
      this.index = plan.firstChunk;
      this.plainAt = plan.firstChunk * chunkSize;
      const endsAtFinal = plan.lastChunk === plan.finalChunk;
      this.state = {
        tagger: new ChunkTagger(keys),
        // the CTR stream runs on across records: record i starts i·C/16 blocks after the IV
        decipher: createDecipheriv(
          'aes-256-ctr',
          keys.encKey,
          counterAt(keys.iv, this.plainAt / 16),
        ),
        chunkSize,
        lo: plan.start,
        hi: plan.end + 1,
        lastChunk: plan.lastChunk,
        endsAtFinal,
        finalLength: endsAtFinal ? plan.plainSize - plan.finalChunk * chunkSize : undefined,
      };
    }
    return take;
  }

  private release(state: OpenState, ciphertext: Buffer[], tag: Buffer, final: boolean): void {
    const pass = this.range?.pass;
    if (pass !== 'decrypt') {
      const expected = state.tagger.tag(this.index, final, ciphertext);
      if (!timingSafeEqual(expected, tag)) {
        throw new IntegrityError(`chunk ${this.index} failed verification`);
      }
    }
    this.index++;
    if (pass === 'check') return;
    for (const piece of ciphertext) {
      if (piece.length === 0) continue;
      const plain = state.decipher.update(piece);
      const at = this.plainAt;
      this.plainAt += plain.length;
      const from = Math.max(state.lo - at, 0);
      const to = Math.min(state.hi - at, plain.length);
      if (to <= from) continue;
      this.push(from === 0 && to === plain.length ? plain : plain.subarray(from, to));
    }
  }
}

/**
 * A Transform that opens a PSB1 blob. Errors: BadHeaderError, UnsupportedVersionError,
 * IntegrityError (tampering, truncation, reordering, wrong key). Throws KeySizeError at once.
 */
export function open(vaultKey: Uint8Array): Transform {
  return new OpenTransform(vaultKey);
}

/**
 * A Transform that opens plaintext bytes [start, end] of a PSB1 blob from only the records that
 * cover them: its input is the 54-byte header followed by the sealed bytes `sealedRange(...).body`
 * names (a peer can send exactly that). Every record read is verified before any of its bytes is
 * released (with its index, and the final flag when the range reaches the last record); exactly
 * the requested bytes come out. Throws RangeNotSatisfiableError / InvalidArgumentError at once.
 */
export function openRange(vaultKey: Uint8Array, range: OpenRangeOptions): Transform {
  assertKey(vaultKey, 'vault key');
  // the chunk size is not known before the header; any valid one checks the bounds
  sealedRange(range, range.plainSize);
  return new OpenTransform(vaultKey, { ...range });
}
