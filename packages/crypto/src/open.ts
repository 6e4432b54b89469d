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
  chunkSize: number;
}

class OpenTransform extends Transform {
  private readonly vaultKey: Uint8Array;
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
      const { chunkSize } = state;
      while (offset < chunk.length) {
        const left = chunk.length - offset;
        if (this.fill < chunkSize) {
          const take = Math.min(chunkSize - this.fill, left);
          this.pieces.push(chunk.subarray(offset, offset + take));
          this.fill += take;
          offset += take;
        } else {
          // A full chunk of ciphertext is never the final one, so its tag can be checked
          // as soon as the tag has arrived, without waiting for more input.
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
      // Whatever is held at the end must be the short final chunk followed by its tag (it
      // may have spilled into the tag buffer: held is at most chunk size + 31 bytes).
      const held = this.fill + this.tagFill;
      if (held < TAG_SIZE) throw new IntegrityError('sealed data is truncated');
      const last = Buffer.concat([...this.pieces, this.tag.subarray(0, this.tagFill)], held);
      const ctEnd = held - TAG_SIZE;
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
      this.state = {
        tagger: new ChunkTagger(keys),
        decipher: createDecipheriv('aes-256-ctr', keys.encKey, keys.iv),
        chunkSize: keys.chunkSize,
      };
    }
    return take;
  }

  private release(state: OpenState, ciphertext: Buffer[], tag: Buffer, final: boolean): void {
    const expected = state.tagger.tag(this.index, final, ciphertext);
    if (!timingSafeEqual(expected, tag)) {
      throw new IntegrityError(`chunk ${this.index} failed verification`);
    }
    this.index++;
    for (const piece of ciphertext) {
      if (piece.length > 0) this.push(state.decipher.update(piece));
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
