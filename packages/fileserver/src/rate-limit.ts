// A token bucket for repair traffic: background copies wait for tokens so user requests keep
// the bandwidth, and a Transform that meters a byte stream through it (backpressure intact).

import { Transform, type TransformCallback } from 'node:stream';

export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #last = performance.now();
  #queue: Promise<void> = Promise.resolve();

  /** `rate` bytes per second (Infinity or 0: no limit); bursts up to `burst` bytes. */
  constructor(rate: number, burst = Math.max(1024 * 1024, rate / 4)) {
    this.#rate = rate > 0 ? rate : Number.POSITIVE_INFINITY;
    this.#burst = burst;
    this.#tokens = burst;
  }

  get rate(): number {
    return this.#rate;
  }

  #refill(): void {
    const now = performance.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
    this.#last = now;
  }

  /** Resolves once `n` bytes may go; callers are served in order. */
  take(n: number): Promise<void> {
    if (this.#rate === Number.POSITIVE_INFINITY) return Promise.resolve();
    const turn = this.#queue.then(async () => {
      this.#refill();
      this.#tokens -= n;
      if (this.#tokens < 0) {
        const wait = Math.ceil((-this.#tokens / this.#rate) * 1000);
        // background work only: the wait alone does not keep the process alive
        await new Promise((r) => setTimeout(r, wait).unref());
        this.#refill();
      }
    });
    this.#queue = turn;
    return turn;
  }
}

/** Passes bytes on only as fast as the bucket allows. */
export class Throttle extends Transform {
  readonly #bucket: TokenBucket;

  constructor(bucket: TokenBucket) {
    super();
    this.#bucket = bucket;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#bucket.take(chunk.length).then(
      () => cb(null, chunk),
      (err) => cb(err),
    );
  }
}
