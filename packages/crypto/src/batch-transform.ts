// The ordering and backpressure shared by the pool's seal and open transforms: batches go out to
// the workers as they fill, their outputs come back in any order and are pushed in input order.
import { Transform, type TransformCallback } from 'node:stream';
import type { BatchJob, BatchRunner } from './pool-job.js';

interface InFlight {
  out: Buffer | undefined;
  err: Error | undefined;
  done: boolean;
}

export abstract class BatchTransform extends Transform {
  readonly #runner: BatchRunner;
  readonly #maxInFlight: number;
  readonly #queue: InFlight[] = [];
  #held: TransformCallback | undefined;
  #flushed: TransformCallback | undefined;

  constructor(runner: BatchRunner, maxInFlight: number, readableHighWaterMark: number) {
    super({ readableHighWaterMark });
    this.#runner = runner;
    this.#maxInFlight = maxInFlight;
  }

  /** Sends a batch to a worker; its output is pushed after every batch submitted before it. */
  protected submit(job: BatchJob): void {
    const slot: InFlight = { out: undefined, err: undefined, done: false };
    this.#queue.push(slot);
    this.#runner.run(job).then(
      (out) => {
        slot.out = out;
        slot.done = true;
        this.#drain();
      },
      (err: Error) => {
        slot.err = err;
        slot.done = true;
        this.#drain();
      },
    );
  }

  /** Fails the stream once every batch submitted before has been pushed (as inline would). */
  protected submitError(err: Error): void {
    this.#queue.push({ out: undefined, err, done: true });
    this.#drain();
  }

  /** Ends a _transform: at once, or once fewer than the bound of batches are in flight. */
  protected taken(callback: TransformCallback): void {
    if (this.#queue.length < this.#maxInFlight) callback();
    else this.#held = callback;
  }

  /** Ends a _flush once every batch submitted has been pushed. */
  protected flushed(callback: TransformCallback): void {
    this.#flushed = callback;
    this.#drain();
  }

  #drain(): void {
    if (this.destroyed) return;
    while (this.#queue[0]?.done) {
      const slot = this.#queue.shift() as InFlight;
      if (slot.err) {
        this.#queue.length = 0;
        this.destroy(slot.err);
        return;
      }
      if (slot.out && slot.out.length > 0) this.push(slot.out);
    }
    const held = this.#held;
    if (held && this.#queue.length < this.#maxInFlight) {
      this.#held = undefined;
      held();
    }
    const flushed = this.#flushed;
    if (flushed && this.#queue.length === 0) {
      this.#flushed = undefined;
      flushed();
    }
  }
}
