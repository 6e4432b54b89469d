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
    this.fillBatches(chunk, 0, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.#headerSent) this.#sendHeader();
    this.sendLast(TAG_SIZE);
    this.flushed(callback);
  }

  protected override batchSize(): { bytes: number; room: number } {
    return { bytes: this.#batchBytes, room: this.#roomBytes };
  }

  #sendHeader(): void {
    this.#headerSent = true;
    this.push(this.#keys.header);
  }

  protected override sendBatch(batch: Buffer, length: number, endsAtFinal: boolean): void {
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
      length,
      data: batch.buffer as ArrayBuffer,
    });
    this.#index += length / chunkSize;
  }
}
