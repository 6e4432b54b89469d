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
  #resume: (() => void) | undefined;
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

  /**
   * Runs `next` once a batch may be submitted: at once, or when one in flight comes back and the
   * reader has taken what was pushed. An input chunk larger than a batch is cut into batches one
   * bound's worth at a time, never all at once, and never past unread output.
   */
  protected whenRoom(next: () => void): void {
    if (this.#roomFor()) next();
    else this.#resume = next;
  }

  /** Fails the stream once every batch submitted before has been pushed (as inline would). */
  protected submitError(err: Error): void {
    this.#queue.push({ out: undefined, err, done: true });
    this.#drain();
  }

  /**
   * Ends a _transform: at once, or once fewer than the bound of batches are in flight and the
   * reader has taken what was pushed. (Outputs are pushed later than the _transform that made
   * them, so Transform's own check, made when the callback runs, would never see them: a reader
   * slower than the writer would let them pile up without bound.)
   */
  protected taken(callback: TransformCallback): void {
    if (this.#roomFor()) callback();
    else this.#held = callback;
  }

  #roomFor(): boolean {
    return (
      this.#queue.length < this.#maxInFlight && this.readableLength < this.readableHighWaterMark
    );
  }

  /** The reader wants more: a write held back for the reader may go on. */
  override _read(size: number): void {
    super._read(size);
    // read() asks before it takes the bytes it returns off the buffer: look once they are gone
    process.nextTick(() => this.#drain());
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
    const resume = this.#resume;
    if (resume && this.#roomFor()) {
      this.#resume = undefined;
      resume();
      return;
    }
    const held = this.#held;
    if (held && this.#roomFor()) {
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
