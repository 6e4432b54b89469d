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

interface OpenState {
  tagger: ChunkTagger;
  decipher: Decipher;
  recordSize: number;
  record: Buffer;
}

class OpenTransform extends Transform {
  private readonly vaultKey: Uint8Array;
  private readonly header = Buffer.alloc(HEADER_SIZE);
  private headerFill = 0;
  private state: OpenState | undefined;
  private index = 0;
  // Bytes of a record (ciphertext + tag) that arrived split across input chunks. Copied
  // because a producer may reuse its buffer once our write callback has run.
  private fill = 0;

  constructor(vaultKey: Uint8Array) {
    assertKey(vaultKey, 'vault key');
    super();
    this.vaultKey = vaultKey;
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
      const { recordSize, record } = state;
      while (offset < chunk.length) {
        const left = chunk.length - offset;
        if (this.fill === 0 && left >= recordSize) {
          // Whole record inside this input chunk: verify and decrypt in place, no copy.
          this.release(state, chunk.subarray(offset, offset + recordSize), false);
          offset += recordSize;
          continue;
        }
        const take = Math.min(recordSize - this.fill, left);
        record.set(chunk.subarray(offset, offset + take), this.fill);
        this.fill += take;
        offset += take;
        if (this.fill === recordSize) {
          this.fill = 0;
          this.release(state, record, false);
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
      // Whatever is held at the end must be the short final chunk with its tag.
      if (this.fill < TAG_SIZE) throw new IntegrityError('sealed data is truncated');
      this.release(this.state, this.state.record.subarray(0, this.fill), true);
      this.state.decipher.final();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  private readHeader(chunk: Buffer): number {
    const take = Math.min(HEADER_SIZE - this.headerFill, chunk.length);
    this.header.set(chunk.subarray(0, take), this.headerFill);
    this.headerFill += take;
    checkHeaderPrefix(this.header.subarray(0, this.headerFill));
    if (this.headerFill === HEADER_SIZE) {
      const keys = readFileKeys(this.vaultKey, this.header);
      const recordSize = keys.chunkSize + TAG_SIZE;
      this.state = {
        tagger: new ChunkTagger(keys),
        decipher: createDecipheriv('aes-256-ctr', keys.encKey, keys.iv),
        recordSize,
        record: Buffer.allocUnsafe(recordSize),
      };
    }
    return take;
  }

  private release(state: OpenState, record: Buffer, final: boolean): void {
    const ctEnd = record.length - TAG_SIZE;
    const ciphertext = record.subarray(0, ctEnd);
    const expected = state.tagger.tag(this.index, final, [ciphertext]);
    if (!timingSafeEqual(expected, record.subarray(ctEnd))) {
      throw new IntegrityError(`chunk ${this.index} failed verification`);
    }
    this.index++;
    if (ciphertext.length > 0) this.push(state.decipher.update(ciphertext));
  }
}

/**
 * A Transform that opens a PSB1 blob. Errors: BadHeaderError, UnsupportedVersionError,
 * IntegrityError (tampering, truncation, reordering, wrong key). Throws KeySizeError at once.
 */
export function open(vaultKey: Uint8Array): Transform {
  return new OpenTransform(vaultKey);
}
