// The pool's opener: after the header, the sealed stream is cut into batches of whole records,
// each verified and decrypted by a worker; plaintext of a batch is pushed only once all its
// records verified, and batches come out in order, so it releases no more than open() would.
import type { TransformCallback } from 'node:stream';
import { BatchTransform } from './batch-transform.js';
import { BadHeaderError, IntegrityError } from './errors.js';
import { assertKey } from './keys.js';
import type { BatchRunner } from './pool-job.js';
import {
  checkHeaderPrefix,
  type FileKeys,
  HEADER_SIZE,
  readFileKeys,
  TAG_SIZE,
} from './sealed-format.js';

export class PoolOpenTransform extends BatchTransform {
  readonly #vaultKey: Uint8Array;
  readonly #wantBytes: number;
  readonly #header = Buffer.alloc(HEADER_SIZE);
  #headerFill = 0;
  #keys: FileKeys | undefined;
  #batchBytes = 0;
  #index = 0;

  constructor(runner: BatchRunner, vaultKey: Uint8Array, batchBytes: number, maxInFlight: number) {
    assertKey(vaultKey, 'vault key');
    super(runner, maxInFlight, batchBytes);
    this.#vaultKey = vaultKey;
    this.#wantBytes = batchBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let offset = 0;
    if (!this.#keys) {
      try {
        offset = this.#readHeader(chunk);
      } catch (err) {
        callback(err as Error);
        return;
      }
      if (!this.#keys) {
        callback();
        return;
      }
    }
    this.fillBatches(chunk, offset, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.#keys) {
      callback(
        new BadHeaderError(
          this.#headerFill === 0 ? 'empty input, no header' : 'input ends inside the header',
        ),
      );
      return;
    }
    const record = this.#keys.chunkSize + TAG_SIZE;
    // what is held at the end must be whole records then the short final one and its tag
    if (this.pendingBytes % record < TAG_SIZE) {
      this.submitError(new IntegrityError('sealed data is truncated'));
    } else {
      this.sendLast(0);
    }
    this.flushed(callback);
  }

  #readHeader(chunk: Buffer): number {
    const take = Math.min(HEADER_SIZE - this.#headerFill, chunk.length);
    chunk.copy(this.#header, this.#headerFill, 0, take);
    this.#headerFill += take;
    checkHeaderPrefix(this.#header.subarray(0, this.#headerFill));
    if (this.#headerFill === HEADER_SIZE) {
      const keys = readFileKeys(this.#vaultKey, this.#header);
      const record = keys.chunkSize + TAG_SIZE;
      this.#batchBytes = Math.max(1, Math.floor(this.#wantBytes / record)) * record;
      this.#keys = keys;
    }
    return take;
  }

  protected override batchSize(): { bytes: number; room: number } {
    return { bytes: this.#batchBytes, room: this.#batchBytes };
  }

  protected override sendBatch(batch: Buffer, length: number, endsAtFinal: boolean): void {
    const keys = this.#keys as FileKeys;
    const record = keys.chunkSize + TAG_SIZE;
    this.submit({
      op: 'open',
      header: keys.header,
      encKey: keys.encKey,
      macKey: keys.macKey,
      iv: keys.iv,
      chunkSize: keys.chunkSize,
      firstIndex: this.#index,
      endsAtFinal,
      length,
      data: batch.buffer as ArrayBuffer,
    });
    this.#index += Math.floor(length / record);
  }
}
