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
  /** The batch being filled (its own buffer: transferred to a worker, not copied again). */
  #batch: Buffer | undefined;
  #fill = 0;
  #flushed: TransformCallback | undefined;

  constructor(runner: BatchRunner, maxInFlight: number, readableHighWaterMark: number) {
    super({ readableHighWaterMark });
    this.#runner = runner;
    this.#maxInFlight = maxInFlight;
  }

  /** Input bytes a full batch takes, and the buffer size it needs (room for tags when sealing). */
  protected abstract batchSize(): { bytes: number; room: number };

  /** Submits one batch: `length` bytes of `batch`, the last one of the stream when `endsAtFinal`. */
  protected abstract sendBatch(batch: Buffer, length: number, endsAtFinal: boolean): void;

  /** Bytes in the batch being filled. */
  protected get pendingBytes(): number {
    return this.#fill;
  }

  /**
   * Copies `chunk` from `start` into batches, sending each full one, waiting for room whenever
   * the bound is reached; ends the _transform (`callback`) once all of it is in.
   */
  protected fillBatches(chunk: Buffer, start: number, callback: TransformCallback): void {
    const { bytes, room } = this.batchSize();
    let offset = start;
    while (offset < chunk.length) {
      this.#batch ??= Buffer.allocUnsafeSlow(room);
      const take = Math.min(bytes - this.#fill, chunk.length - offset);
      chunk.copy(this.#batch, this.#fill, offset, offset + take);
      this.#fill += take;
      offset += take;
      // a full batch holds only full chunks (or records), so none of them is the final one
      if (this.#fill === bytes) {
        this.#sendCurrent(false, room);
        if (offset < chunk.length) {
          const at = offset;
          this.whenRoom(() => this.fillBatches(chunk, at, callback));
          return;
        }
      }
    }
    this.taken(callback);
  }

  /** Sends the batch being filled (or an empty one of `room` bytes) as the stream's last. */
  protected sendLast(room: number): void {
    this.#sendCurrent(true, room);
  }

  #sendCurrent(endsAtFinal: boolean, room: number): void {
    const batch = this.#batch ?? Buffer.from(new ArrayBuffer(room));
    const length = this.#fill;
    this.#batch = undefined;
    this.#fill = 0;
    this.sendBatch(batch, length, endsAtFinal);
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
