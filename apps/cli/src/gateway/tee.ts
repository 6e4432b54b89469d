// A bounded hand-off of one part's chunks, as its spool write reads them, to the speculative
// store. Once the store reads it, the writer waits while more than LIMIT bytes are queued; before
// that, filling LIMIT detaches the tee (the part goes on to the spool alone, at its own pace, and
// the store opens it from there), so parts ahead of the store never wait on it. A reader that
// gives up (the store failed) turns every later push into a no-op as well.

import { AbortedError } from '@peerstash/gateway';

/** Bytes queued before the part's write waits for the store. */
const LIMIT = 1024 * 1024;

export class Tee {
  /**
   * `onDetach`: called when the tee fills before the store took it, and closes; `mayDetach`
   * false keeps the writer waiting instead (the part the store takes right after this one).
   */
  constructor(onDetach: () => void = () => {}, mayDetach: () => boolean = () => true) {
    this.#onDetach = onDetach;
    this.#mayDetach = mayDetach;
  }

  #queue: Uint8Array[] = [];
  #bytes = 0;
  #ended = false;
  #error: unknown;
  #closed = false;
  #taken = false;
  readonly #onDetach: () => void;
  readonly #mayDetach: () => boolean;
  #wakeReader: (() => void) | undefined;
  #wakeWriter: (() => void) | undefined;

  /** Queues a chunk; resolves once the queue is under LIMIT again (at once if the reader left). */
  async push(chunk: Uint8Array): Promise<void> {
    if (this.#closed || this.#ended) return;
    this.#queue.push(chunk);
    this.#bytes += chunk.length;
    this.#wake('reader');
    while (this.#bytes > LIMIT && !this.#closed) {
      if (!this.#taken && this.#mayDetach()) {
        this.close();
        this.#onDetach();
        return;
      }
      await new Promise<void>((r) => {
        this.#wakeWriter = r;
      });
    }
  }

  /** No more chunks: the part's source ended, or failed with `error`. */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#wake('reader');
  }

  /** The reader is gone: drop what is queued and never wait again. */
  close(): void {
    this.#closed = true;
    this.#queue = [];
    this.#bytes = 0;
    this.#wake('writer');
    this.#wake('reader');
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The store will read this tee: from now on a full queue makes the writer wait. */
  take(): void {
    this.#taken = true;
  }

  async *chunks(): AsyncGenerator<Uint8Array> {
    this.#taken = true;
    try {
      for (;;) {
        if (this.#closed) throw new AbortedError('the speculative store stopped');
        const c = this.#queue.shift();
        if (c) {
          this.#bytes -= c.length;
          if (this.#bytes <= LIMIT) this.#wake('writer');
          yield c;
          continue;
        }
        if (this.#ended) {
          if (this.#error !== undefined) throw this.#error;
          return;
        }
        await new Promise<void>((r) => {
          this.#wakeReader = r;
        });
      }
    } finally {
      this.close();
    }
  }

  #wake(who: 'reader' | 'writer'): void {
    const wake = who === 'reader' ? this.#wakeReader : this.#wakeWriter;
    if (who === 'reader') this.#wakeReader = undefined;
    else this.#wakeWriter = undefined;
    wake?.();
  }
}

/** `source` unchanged, each chunk also pushed into `tee` first (backpressure from both sides). */
export async function* teed(
  source: AsyncIterable<Uint8Array>,
  tee: Tee,
): AsyncGenerator<Uint8Array> {
  let ended = false;
  try {
    for await (const c of source) {
      await tee.push(c);
      yield c;
    }
    ended = true;
    tee.end();
  } catch (err) {
    ended = true;
    tee.end(err);
    throw err;
  } finally {
    if (!ended) tee.end(new AbortedError('the part write stopped'));
  }
}
