// The streaming sealer: plaintext in, PSB1 sealed blob out. Encrypts each input piece as it
// arrives and tags whole chunks, so it holds at most one chunk of ciphertext at a time.
import { type Cipher, createCipheriv } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ChunkTagger, DEFAULT_CHUNK_SIZE, newFileKeys, TAG_SIZE } from './sealed-format.js';

export interface SealOptions {
  /** Plaintext bytes per chunk: a power of two from 64 B to 16 MiB. Default 65536. */
  chunkSize?: number;
}

class SealTransform extends Transform {
  private readonly header: Buffer;
  private readonly chunkSize: number;
  private readonly tagger: ChunkTagger;
  private readonly cipher: Cipher;
  private headerSent = false;
  private index = 0;
  // Ciphertext of the chunk being built; the final flag is hashed before the ciphertext,
  // so a chunk is tagged only once we know whether it is full.
  private pieces: Buffer[] = [];
  private fill = 0;

  constructor(vaultKey: Uint8Array, options: SealOptions) {
    const keys = newFileKeys(vaultKey, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
    super({ readableHighWaterMark: keys.chunkSize + TAG_SIZE });
    this.header = keys.header;
    this.chunkSize = keys.chunkSize;
    this.tagger = new ChunkTagger(keys);
    this.cipher = createCipheriv('aes-256-ctr', keys.encKey, keys.iv);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      if (!this.headerSent) this.sendHeader();
      const { chunkSize } = this;
      let offset = 0;
      while (offset < chunk.length) {
        const take = Math.min(chunkSize - this.fill, chunk.length - offset);
        this.pieces.push(this.cipher.update(chunk.subarray(offset, offset + take)));
        this.fill += take;
        offset += take;
        // A full chunk is never the final one: the final chunk is always short (maybe empty).
        if (this.fill === chunkSize) this.emitChunk(false);
      }
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (!this.headerSent) this.sendHeader();
      this.cipher.final();
      this.emitChunk(true);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  private sendHeader(): void {
    this.headerSent = true;
    this.push(this.header);
  }

  private emitChunk(final: boolean): void {
    const tag = this.tagger.tag(this.index, final, this.pieces);
    for (const piece of this.pieces) this.push(piece);
    this.push(tag);
    this.index++;
    this.pieces = [];
    this.fill = 0;
  }
}

/**
 * A Transform that seals plaintext into a PSB1 blob under a fresh per-file salt and IV.
 * Throws KeySizeError / InvalidArgumentError synchronously for a bad key or chunk size.
 */
export function seal(vaultKey: Uint8Array, options: SealOptions = {}): Transform {
  return new SealTransform(vaultKey, options);
}
