// Small stream helpers: accept any byte source as a Readable, and a pass-through meter that
// counts bytes and fails a transfer that stays silent for too long (a stuck peer or client).

import { Readable, Transform, type TransformCallback } from 'node:stream';
import { InvalidArgumentError, TimeoutError } from './errors.js';

export type ByteSource = Readable | AsyncIterable<Uint8Array>;

export function toReadable(source: ByteSource): Readable {
  if (source instanceof Readable) return source;
  if (source && typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    return Readable.from(source, { objectMode: false });
  }
  throw new InvalidArgumentError('source must be a Readable or an async iterable of bytes');
}

export interface MeterOptions {
  onBytes?: (n: number) => void;
  /** Fail with ERR_TIMEOUT when no chunk passes for this long (0 = never). */
  idleMs?: number;
  what?: string;
}

/** A Transform that passes bytes through unchanged while counting them and watching for silence. */
export class Meter extends Transform {
  bytes = 0;
  readonly #onBytes: ((n: number) => void) | undefined;
  readonly #idleMs: number;
  readonly #what: string;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: MeterOptions = {}) {
    super({ highWaterMark: 64 * 1024 });
    this.#onBytes = options.onBytes;
    this.#idleMs = options.idleMs ?? 0;
    this.#what = options.what ?? 'transfer';
    this.#arm();
  }

  #arm(): void {
    if (this.#idleMs <= 0) return;
    if (this.#timer) {
      this.#timer.refresh();
      return;
    }
    this.#timer = setTimeout(() => {
      this.destroy(new TimeoutError(`${this.#what}: no data for ${this.#idleMs} ms`));
    }, this.#idleMs);
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.#onBytes?.(chunk.length);
    this.#arm();
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.#disarm();
    cb();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.#disarm();
    cb(err);
  }
}
