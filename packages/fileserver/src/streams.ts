// Small stream helpers: accept any byte source as a Readable, and a pass-through meter that
// counts bytes and fails a transfer that stays silent for too long (a stuck peer or client).

import { Readable, Transform, type TransformCallback, Writable } from 'node:stream';
import { errorCode, InvalidArgumentError, TimeoutError } from './errors.js';

/** Bytes for `store`: a stream, an (async) iterable of chunks, or one buffer. */
export type ByteSource = Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array;

export function toReadable(source: ByteSource): Readable {
  if (source instanceof Readable) return source;
  // a buffer is itself iterable (of numbers): it is one chunk
  if (source instanceof Uint8Array) return Readable.from([source], { objectMode: false });
  const s = source as Partial<AsyncIterable<Uint8Array> & Iterable<Uint8Array>>;
  if (
    source !== null &&
    typeof source === 'object' &&
    (typeof s[Symbol.asyncIterator] === 'function' || typeof s[Symbol.iterator] === 'function')
  ) {
    return Readable.from(source as AsyncIterable<Uint8Array>, { objectMode: false });
  }
  throw new InvalidArgumentError('source must be bytes, a Readable or an iterable of bytes');
}

export interface MeterOptions {
  onBytes?: (n: number) => void;
  /** Fail with ERR_TIMEOUT when no chunk passes for this long (0 = never). */
  idleMs?: number;
  what?: string;
  /** Bytes buffered before write() asks the writer to wait (default 64 KiB). */
  highWaterMark?: number;
}

// onBytes gets byte counts in batches of about this much (and the rest at the end): a labelled
// prom-client increment per 16 KiB TLS record showed up in put profiles.
const REPORT_EVERY = 1024 * 1024;

/** A Transform that passes bytes through unchanged while counting them and watching for silence. */
export class Meter extends Transform {
  bytes = 0;
  readonly #onBytes: ((n: number) => void) | undefined;
  #unreported = 0;
  readonly #idleMs: number;
  readonly #what: string;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: MeterOptions = {}) {
    super({ highWaterMark: options.highWaterMark ?? 64 * 1024 });
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
    this.#unreported += chunk.length;
    if (this.#unreported >= REPORT_EVERY) this.#report();
    this.#arm();
    cb(null, chunk);
  }

  #report(): void {
    const n = this.#unreported;
    this.#unreported = 0;
    if (n > 0) this.#onBytes?.(n);
  }

  override _flush(cb: TransformCallback): void {
    this.#disarm();
    this.#report();
    cb();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.#disarm();
    this.#report();
    cb(err);
  }
}

/**
 * Writes every chunk to a primary destination and to any number of secondary ones, moving on
 * when all that asked for it have drained. A secondary that fails is dropped (and reported) and
 * the rest carry on; the primary failing fails the whole stream.
 */
export class Fanout extends Writable {
  readonly #primary: Writable;
  readonly #secondaries = new Set<Writable>();
  readonly #onDrop: (w: Writable, err: Error) => void;

  constructor(
    primary: Writable,
    secondaries: Writable[],
    onDrop: (w: Writable, err: Error) => void,
  ) {
    super({ highWaterMark: 64 * 1024 });
    this.#primary = primary;
    this.#onDrop = onDrop;
    primary.on('error', (err) => this.destroy(err));
    for (const w of secondaries) {
      this.#secondaries.add(w);
      w.on('error', (err) => this.#drop(w, err));
      w.on('close', () => {
        if (!w.writableFinished) this.#drop(w, new Error('replica stream closed early'));
      });
    }
  }

  #drop(w: Writable, err: Error): void {
    if (!this.#secondaries.delete(w)) return;
    w.emit('fanout:dropped');
    this.#onDrop(w, err);
  }

  #drained(w: Writable): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        w.off('drain', done);
        w.off('close', done);
        w.off('fanout:dropped', done);
        resolve();
      };
      w.on('drain', done);
      w.on('close', done);
      w.on('fanout:dropped', done);
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const waits: Promise<void>[] = [];
    if (!this.#primary.write(chunk)) waits.push(this.#drained(this.#primary));
    for (const w of this.#secondaries) {
      if (!w.write(chunk)) waits.push(this.#drained(w));
    }
    if (waits.length === 0) {
      cb();
      return;
    }
    Promise.all(waits).then(() => {
      if (this.#primary.destroyed)
        cb(this.#primary.errored ?? new Error('local write ended early'));
      else cb();
    });
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#primary.end();
    for (const w of this.#secondaries) w.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (err) {
      this.#primary.destroy(err);
      for (const w of this.#secondaries) w.destroy(err);
    }
    cb(err);
  }
}

/**
 * Destroys `source` with ERR_TIMEOUT once it has been starved for `ms`: nothing buffered in it or
 * in `meter`, and no byte through `meter`, while the reader downstream waits for more. A reader
 * that is merely slow keeps those buffers full, so it never trips this; a peer whose link went
 * silent (no reset, no FIN) is given up on long before the transport's idle timeout.
 */
export function watchStarved(source: Readable, meter: Meter, ms: number, what: string): void {
  const stop = whenStuck(
    meter,
    ms,
    () => source.readableLength + meter.writableLength + meter.readableLength === 0,
    () => source.destroy(new TimeoutError(`${what}: the peer sent nothing for ${ms} ms`)),
  );
  source.once('close', stop);
  source.once('end', stop);
}

/**
 * Calls `stuck` once no byte has passed `meter` for `ms` while `idle()` held on every tick; stops
 * when `meter` closes, or when the returned function is called. A late tick means this process was
 * not running (GC, a loaded host): timers fire before sockets are read, so bytes may be waiting,
 * and it counts as progress, not as the peer's silence.
 */
function whenStuck(meter: Meter, ms: number, idle: () => boolean, stuck: () => void): () => void {
  if (ms <= 0) return () => {};
  // ticks at a tenth of the timeout: a stuck stream is given up on within 1.1 × ms of going quiet
  const period = Math.max(20, Math.floor(ms / 10));
  let seen = meter.bytes;
  let since = performance.now();
  let last = since;
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - last > 2 * period;
    last = now;
    if (meter.bytes !== seen || !idle() || late) {
      seen = meter.bytes;
      since = now;
    } else if (now - since >= ms) {
      clearInterval(timer);
      stuck();
    }
  }, period);
  timer.unref();
  const stop = () => clearInterval(timer);
  meter.once('close', stop);
  return stop;
}

/**
 * Waits for a store write and the pipeline feeding it. The error worth reporting is the one with
 * a code (the disk's ERR_NO_SPACE rather than the feeding side's "ended early"), the write's
 * first. A write that failed with a code is final at once: the feeding side may be a stalled
 * source that would notice only at its idle timeout.
 */
export async function bothDone<T>(writing: Promise<T>, piping: Promise<unknown>): Promise<T> {
  piping.catch(() => {});
  let value: T;
  try {
    value = await writing;
  } catch (werr) {
    if (errorCode(werr) !== undefined) throw werr;
    const perr = await piping.then(
      () => undefined,
      (err: unknown) => err,
    );
    throw perr !== undefined && errorCode(perr) !== undefined ? perr : werr;
  }
  await piping;
  return value;
}

/**
 * Gathers small chunks into pieces of about `size` bytes. The sealer emits one piece per
 * ciphertext slice and tag; fanned out to several peers, each piece costs a frame, a TLS record
 * write and a few promise hops per destination, so batching them saves CPU on every hop.
 */
export class Rechunk extends Transform {
  readonly #size: number;
  #parts: Buffer[] = [];
  #length = 0;

  constructor(size = 1024 * 1024) {
    super({ highWaterMark: size });
    this.#size = size;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#parts.push(chunk);
    this.#length += chunk.length;
    if (this.#length >= this.#size) this.#emit();
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.#length > 0) this.#emit();
    cb();
  }

  #emit(): void {
    const out =
      this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#length);
    this.#parts = [];
    this.#length = 0;
    this.push(out);
  }
}

/**
 * Destroys `meter` with ERR_TIMEOUT once bytes have waited in it for `ms` without one passing on:
 * the peer downstream takes nothing (a frozen node, a link gone silent). A writer that merely has
 * nothing to send (a slow upload) leaves it empty and never trips this.
 */
export function watchStalled(meter: Meter, ms: number, what: string): void {
  whenStuck(
    meter,
    ms,
    // bytes waiting in it: the reader downstream takes none (an empty meter is only a slow writer)
    () => meter.writableLength + meter.readableLength > 0,
    () => meter.destroy(new TimeoutError(`${what}: the peer took nothing for ${ms} ms`)),
  );
}
