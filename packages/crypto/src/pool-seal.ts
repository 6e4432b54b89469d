// The pool's sealer: plaintext is gathered into batches of whole chunks, each sealed by a worker
// from its own CTR counter; the output is byte for byte what seal() writes for the same keys.
import type { TransformCallback } from 'node:stream';
import { BatchTransform } from './batch-transform.js';
import type { BatchRunner } from './pool-job.js';
import type { SealOptions } from './seal.js';
import { DEFAULT_CHUNK_SIZE, type FileKeys, newFileKeys, TAG_SIZE } from './sealed-format.js';

export class PoolSealTransform extends BatchTransform {
  readonly #keys: FileKeys;
  readonly #batchBytes: number;
  /** Room for a batch's records: its plaintext and a tag per chunk, sealed in place. */
  readonly #roomBytes: number;
  #headerSent = false;
  #batch: Buffer | undefined;
  #fill = 0;
  #index = 0;

  constructor(
    runner: BatchRunner,
    vaultKey: Uint8Array,
    options: SealOptions,
    batchBytes: number,
    maxInFlight: number,
  ) {
    const keys = newFileKeys(vaultKey, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
    const chunks = Math.max(1, Math.floor(batchBytes / keys.chunkSize));
    super(runner, maxInFlight, chunks * (keys.chunkSize + TAG_SIZE));
    this.#keys = keys;
    this.#batchBytes = chunks * keys.chunkSize;
    this.#roomBytes = chunks * (keys.chunkSize + TAG_SIZE);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.#headerSent) this.#sendHeader();
    this.#fillFrom(chunk, 0, callback);
  }

  /** Copies `chunk` from `offset` into batches, waiting for room whenever the bound is reached. */
  #fillFrom(chunk: Buffer, start: number, callback: TransformCallback): void {
    let offset = start;
    while (offset < chunk.length) {
      // a buffer of its own per batch (not from the pool): it is transferred, not copied again
      this.#batch ??= Buffer.allocUnsafeSlow(this.#roomBytes);
      const take = Math.min(this.#batchBytes - this.#fill, chunk.length - offset);
      chunk.copy(this.#batch, this.#fill, offset, offset + take);
      this.#fill += take;
      offset += take;
      // a full batch holds only full chunks, so none of them is the final one
      if (this.#fill === this.#batchBytes) {
        this.#send(false);
        if (offset < chunk.length) {
          const at = offset;
          this.whenRoom(() => this.#fillFrom(chunk, at, callback));
          return;
        }
      }
    }
    this.taken(callback);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.#headerSent) this.#sendHeader();
    this.#batch ??= Buffer.allocUnsafeSlow(TAG_SIZE);
    this.#send(true);
    this.flushed(callback);
  }

  #sendHeader(): void {
    this.#headerSent = true;
    this.push(this.#keys.header);
  }

  #send(endsAtFinal: boolean): void {
    const batch = this.#batch as Buffer;
    const { header, encKey, macKey, iv, chunkSize } = this.#keys;
    this.submit({
      op: 'seal',
      header,
      encKey,
      macKey,
      iv,
      chunkSize,
      firstIndex: this.#index,
      endsAtFinal,
      length: this.#fill,
      data: batch.buffer as ArrayBuffer,
    });
    this.#index += this.#fill / chunkSize;
    this.#batch = undefined;
    this.#fill = 0;
  }
}
